#!/usr/bin/env node
// An SMPP 3.4 SMSC for smsr's tests, on node-smpp: listens on loopback, logs
// every PDU it receives as one JSON line, and behaves as set by flags and by
// a line-based JSON control protocol over TCP. See README.md beside it.
'use strict';

const fs = require('fs');
const net = require('net');
const path = require('path');
const crypto = require('crypto');
const smpp = require('smpp');

// ---------------------------------------------------------------- node-smpp
// The SMSC deals in raw octets: no text decoding of short_message or
// message_payload, no Date conversion of times. Removing node-smpp's filters
// keeps the bytes exactly as the ESME sent them (and as we send them).
for (const c of Object.keys(smpp.commands)) {
	const params = smpp.commands[c].params || {};
	for (const k of Object.keys(params)) delete params[k].filter;
}
for (const t of Object.keys(smpp.tlvs)) delete smpp.tlvs[t].filter;
smpp.PDU.prototype._filter = function () {}; // nothing left to filter: skip its loop
smpp.PDU.maxLength = 65536;

const ST = {
	OK: 0x00, INVCMDID: 0x03, INVBNDSTS: 0x04, ALYBND: 0x05, SYSERR: 0x08,
	BINDFAIL: 0x0D, INVPASWD: 0x0E, INVSYSID: 0x0F, THROTTLED: 0x58,
};
const MSG_STATE = {
	ENROUTE: 1, DELIVRD: 2, EXPIRED: 3, DELETED: 4, UNDELIV: 5,
	ACCEPTD: 6, UNKNOWN: 7, REJECTD: 8,
};

// ---------------------------------------------------------------- arguments
function usage(msg) {
	if (msg) process.stderr.write('smsc.js: ' + msg + '\n');
	process.stderr.write('usage: node smsc.js --port N --ready-file F [--control-port N] [options]; see tests/peers/README.md\n');
	process.exit(2);
}

const BOOL_FLAGS = new Set(['id-zeros', 'swallow', 'receipts-always', 'no-receipts',
	'no-enquire-link-resp', 'exit-on-stdin-eof', 'dlr-id-mismatch', 'refuse-binds',
	'error-resp-body', 'log-out', 'keep-open-on-refuse']);
const MULTI_FLAGS = new Set(['reject', 'account', 'receipt-rule']);

function parseArgs(argv) {
	const a = {};
	for (let i = 0; i < argv.length; i++) {
		let k = argv[i];
		if (!k.startsWith('--')) usage('unexpected argument ' + k);
		k = k.slice(2);
		let v;
		const eq = k.indexOf('=');
		if (eq >= 0) { v = k.slice(eq + 1); k = k.slice(0, eq); }
		else if (BOOL_FLAGS.has(k)) v = true;
		else { if (i + 1 >= argv.length) usage('--' + k + ' needs a value'); v = argv[++i]; }
		if (MULTI_FLAGS.has(k)) (a[k] = a[k] || []).push(v);
		else a[k] = v;
	}
	return a;
}

const KNOWN = new Set(['port', 'host', 'ready-file', 'control-port', 'log', 'log-out',
	'system-id', 'password', 'account', 'refuse-binds', 'bind-status', 'keep-open-on-refuse',
	'id-format', 'id-zeros', 'id-case', 'id-start',
	'reject', 'throttle-rate', 'throttle-burst', 'throttle-share', 'delay', 'swallow',
	'error-resp-body', 'drop-after',
	'no-receipts', 'receipts-always', 'receipt-delay', 'receipt-stat', 'receipt-err',
	'receipt-rule', 'receipt-id', 'receipt-id-form', 'receipt-share', 'dlr-id-mismatch',
	'enquire-link', 'no-enquire-link-resp', 'exit-on-stdin-eof', 'max-runtime']);

const args = parseArgs(process.argv.slice(2));
for (const k of Object.keys(args)) if (!KNOWN.has(k)) usage('unknown flag --' + k);

function num(v, what) {
	const n = typeof v === 'number' ? v : Number(String(v).trim());
	if (!Number.isFinite(n)) throw new Error('bad number for ' + what + ': ' + v);
	return n;
}
// "D" or "MIN-MAX" (flags), D or [MIN,MAX] or {"min":,"max":} (control)
function range(v, what) {
	if (Array.isArray(v)) return [num(v[0], what), num(v[1], what)];
	if (v && typeof v === 'object') return [num(v.min, what), num(v.max, what)];
	const s = String(v);
	const m = s.match(/^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*$/);
	if (m) return [Number(m[1]), Number(m[2])];
	const n = num(s, what);
	return [n, n];
}
function pick(r) { return r[0] + (r[1] > r[0] ? Math.random() * (r[1] - r[0]) : 0); }
function status(v, what) {
	const n = typeof v === 'string' && /^0x/i.test(v) ? parseInt(v, 16) : num(v, what);
	if (!(n >= 0 && n <= 0xFFFFFFFF)) throw new Error('bad status for ' + what + ': ' + v);
	return n >>> 0;
}
function statName(v) {
	const s = String(v).toUpperCase();
	if (!(s in MSG_STATE)) throw new Error('bad stat ' + v + ' (one of ' + Object.keys(MSG_STATE).join(' ') + ')');
	return s;
}
function errField(v) {
	if (v === undefined || v === null) return '000';
	const s = String(v);
	if (!/^[0-9A-Za-z]{1,3}$/.test(s)) throw new Error('bad err ' + v);
	return s.padStart(3, '0');
}

// ---------------------------------------------------------------- behaviour
// Everything the control protocol can change; the start-up flags set it first
// and {"cmd":"reset","all":true} goes back to it.
function initialBehaviour() {
	const b = {
		accounts: null,           // {system_id: password}: only these may bind
		password: null,           // any system_id, this password
		bind_refuse: false,       // refuse every bind
		bind_status: ST.INVPASWD, // ... with this status
		close_on_refuse: true,
		id_format: 'hex', id_zeros: false, id_case: null,
		reject: [],               // [{status, prefix|null}], first match wins
		throttle_rate: 0, throttle_burst: 0, throttle_share: 0, throttle_status: ST.THROTTLED,
		delay: [0, 0],
		swallow: false,
		error_resp_body: false,
		drop_after: null,         // {n, all}
		receipts: true, receipts_always: false, receipt_delay: [50, 50],
		receipt_stat: 'DELIVRD', receipt_err: '000', receipt_rules: [],
		receipt_id: 'both', receipt_id_form: 'same', receipt_share: 1,
		enquire_link_resp: true, enquire_link: 0,
	};
	const a = args;
	if (a['system-id'] !== undefined) {
		b.accounts = {};
		b.accounts[a['system-id']] = a.password !== undefined ? a.password : null;
	}
	for (const acc of a.account || []) {
		const i = acc.indexOf(':');
		if (i < 0) usage('--account SYSTEM_ID:PASSWORD');
		b.accounts = b.accounts || {};
		b.accounts[acc.slice(0, i)] = acc.slice(i + 1);
	}
	if (a.password !== undefined && !b.accounts) b.password = a.password;
	if (a['refuse-binds']) b.bind_refuse = true;
	if (a['bind-status'] !== undefined) b.bind_status = status(a['bind-status'], 'bind-status');
	if (a['keep-open-on-refuse']) b.close_on_refuse = false;
	if (a['id-format'] !== undefined) b.id_format = a['id-format'];
	if (a['id-zeros']) b.id_zeros = true;
	if (a['id-case'] !== undefined) b.id_case = a['id-case'];
	for (const r of a.reject || []) {
		const i = r.indexOf(':');
		b.reject.push(i < 0 ? { status: status(r, 'reject'), prefix: null }
			: { status: status(r.slice(0, i), 'reject'), prefix: r.slice(i + 1) });
	}
	if (a['throttle-rate'] !== undefined) b.throttle_rate = num(a['throttle-rate'], 'throttle-rate');
	if (a['throttle-burst'] !== undefined) b.throttle_burst = num(a['throttle-burst'], 'throttle-burst');
	if (a['throttle-share'] !== undefined) b.throttle_share = num(a['throttle-share'], 'throttle-share');
	if (a.delay !== undefined) b.delay = range(a.delay, 'delay');
	if (a.swallow) b.swallow = true;
	if (a['error-resp-body']) b.error_resp_body = true;
	if (a['drop-after'] !== undefined) b.drop_after = { n: num(a['drop-after'], 'drop-after'), all: false };
	if (a['no-receipts']) b.receipts = false;
	if (a['receipts-always']) b.receipts_always = true;
	if (a['receipt-delay'] !== undefined) b.receipt_delay = range(a['receipt-delay'], 'receipt-delay');
	if (a['receipt-stat'] !== undefined) b.receipt_stat = statName(a['receipt-stat']);
	if (a['receipt-err'] !== undefined) b.receipt_err = errField(a['receipt-err']);
	for (const r of a['receipt-rule'] || []) {
		const p = r.split(':'); // PREFIX:STAT[:ERR]
		if (p.length < 2) usage('--receipt-rule PREFIX:STAT[:ERR]');
		b.receipt_rules.push({ prefix: p[0], stat: statName(p[1]), err: errField(p[2]) });
	}
	if (a['receipt-id'] !== undefined) b.receipt_id = a['receipt-id'];
	if (a['receipt-id-form'] !== undefined) b.receipt_id_form = a['receipt-id-form'];
	if (a['receipt-share'] !== undefined) b.receipt_share = num(a['receipt-share'], 'receipt-share');
	if (a['dlr-id-mismatch']) { b.id_format = 'hex'; b.receipt_id_form = 'dec'; }
	if (a['no-enquire-link-resp']) b.enquire_link_resp = false;
	if (a['enquire-link'] !== undefined) b.enquire_link = num(a['enquire-link'], 'enquire-link');
	checkBehaviour(b);
	return b;
}

function checkBehaviour(b) {
	if (!['hex', 'dec', 'uuid'].includes(b.id_format)) throw new Error('id format is hex, dec or uuid');
	if (b.id_case !== null && !['upper', 'lower'].includes(b.id_case)) throw new Error('id case is upper or lower');
	if (!['both', 'tlv', 'text'].includes(b.receipt_id)) throw new Error('receipt id is both, tlv or text');
	if (!['same', 'dec', 'hex', 'hexlower', 'nozeros'].includes(b.receipt_id_form))
		throw new Error('receipt id form is same, dec, hex, hexlower or nozeros');
	if (!(b.throttle_share >= 0 && b.throttle_share <= 1)) throw new Error('throttle share is 0..1');
	if (!(b.receipt_share >= 0 && b.receipt_share <= 1)) throw new Error('receipt share is 0..1');
}

let B;
try { B = initialBehaviour(); } catch (e) { usage(e.message); }

// ---------------------------------------------------------------- counters
function zeroStats() {
	return {
		connections: 0, connections_total: 0,
		binds: 0, binds_refused: 0, unbinds: 0,
		submits: 0, submits_swallowed: 0, answered: {},
		receipts_sent: 0, receipts_acked: 0, receipts_nacked: 0, receipts_queued: 0, receipts_skipped: 0,
		mos_sent: 0, mos_acked: 0, mos_nacked: 0,
		enquire_links: 0, enquire_links_answered: 0, enquire_links_sent: 0, enquire_link_resps: 0,
		generic_nacks: 0, other_pdus: 0, drops: 0, pdu_errors: 0,
	};
}
let stats = zeroStats();
function countAnswer(st) {
	const k = String(st);
	stats.answered[k] = (stats.answered[k] || 0) + 1;
}

// ---------------------------------------------------------------- log
const T0 = Date.now();
let logFd = null, logOn = true, logBuf = [], logQueued = false;
if (args.log === 'none') logOn = false;
else if (args.log !== undefined && args.log !== '-') logFd = fs.openSync(args.log, 'a');
process.stdout.on('error', () => { logOn = false; }); // the reader went away
function log(obj) {
	if (!logOn) return;
	logBuf.push(JSON.stringify(obj));
	if (!logQueued) { logQueued = true; setImmediate(flushLog); }
}
function flushLog() {
	logQueued = false;
	if (!logBuf.length) return;
	const s = logBuf.join('\n') + '\n';
	logBuf = [];
	if (logFd !== null) fs.writeSync(logFd, s);
	else process.stdout.write(s);
}
// Ring of the last records, for {"cmd":"last"}.
const RING = 1000;
const ring = [];
function remember(rec) { ring.push(rec); if (ring.length > RING) ring.shift(); }

function tlvsOf(pdu) {
	let out;
	const params = smpp.commands[pdu.command].params || {};
	for (const k of Object.keys(pdu)) {
		if (k in params) continue;
		const v = pdu[k];
		if (k in smpp.tlvs) {
			out = out || {};
			out[k] = Buffer.isBuffer(v) ? v.toString('hex') : Array.isArray(v) ? v.map(x => Buffer.isBuffer(x) ? x.toString('hex') : x) : v;
		} else if (/^\d+$/.test(k) && Buffer.isBuffer(v)) { // a TLV node-smpp does not know
			out = out || {};
			out['0x' + Number(k).toString(16).padStart(4, '0')] = v.toString('hex');
		}
	}
	return out;
}

// Callbacks due at the same millisecond run from one timer, so that what
// they send goes out corked together. cancel() forgets them all.
function scheduler() {
	const slots = new Map();
	let n = 0;
	return {
		later(ms, fn) {
			ms = Math.max(1, Math.round(ms));
			const due = Date.now() + ms;
			let slot = slots.get(due);
			if (!slot) {
				slot = { fns: [], timer: null };
				slots.set(due, slot);
				slot.timer = setTimeout(() => {
					slots.delete(due);
					n -= slot.fns.length;
					for (const f of slot.fns) f();
				}, ms);
			}
			slot.fns.push(fn);
			n++;
		},
		cancel() { for (const sl of slots.values()) clearTimeout(sl.timer); slots.clear(); n = 0; },
		get size() { return n; },
	};
}
function baseRecord(s, pdu) {
	return {
		t: Date.now() - T0, conn: s.conn, system_id: s.system_id || null,
		command: pdu.command, command_status: pdu.command_status, sequence_number: pdu.sequence_number,
	};
}

// ---------------------------------------------------------------- message ids
let idCounter = args['id-start'] !== undefined ? num(args['id-start'], 'id-start') : null;
function nextId() {
	const fmt = B.id_format;
	if (fmt === 'uuid') {
		const u = crypto.randomUUID();
		return { id: B.id_case === 'upper' ? u.toUpperCase() : u, fmt };
	}
	if (idCounter === null) idCounter = B.id_zeros ? 1 : 0x1A2B3C4D;
	const n = idCounter++;
	let id;
	if (fmt === 'hex') {
		id = n.toString(16);
		id = B.id_case === 'lower' ? id : id.toUpperCase();
		if (B.id_zeros) id = id.padStart(8, '0');
	} else {
		id = n.toString(10);
		if (B.id_zeros) id = id.padStart(10, '0');
	}
	return { id, fmt };
}
// The id as a receipt shows it: same, or converted (dlr_id_mismatch).
function receiptId(id, fmt, form) {
	if (form === 'same' || fmt === 'uuid') return id;
	let n;
	try { n = fmt === 'hex' ? BigInt('0x' + id) : BigInt(id); } catch (e) { return id; }
	switch (form) {
	case 'dec': return n.toString(10);
	case 'hex': return n.toString(16).toUpperCase();
	case 'hexlower': return n.toString(16);
	case 'nozeros': return id.replace(/^0+(?=.)/, '');
	}
	return id;
}

// ---------------------------------------------------------------- sessions
const sessions = new Set();
let connSeq = 0;
const CAN_RX = { bind_transceiver: true, bind_receiver: true };
const CAN_TX = { bind_transceiver: true, bind_transmitter: true };
const rr = new Map(); // round-robin counter per system_id ('*' = any)

function receivers(system_id) {
	const out = [];
	for (const s of sessions) if (s.bound && CAN_RX[s.bind] && !s.closed && (system_id == null || s.system_id === system_id)) out.push(s);
	return out;
}
function nextReceiver(system_id) {
	const list = receivers(system_id);
	if (!list.length) return null;
	const key = system_id == null ? '*' : system_id;
	const i = (rr.get(key) || 0) % list.length;
	rr.set(key, i + 1);
	return list[i];
}

// PDUs sent in one turn of the event loop go out in one write.
function cork(s) {
	if (s.corked) return;
	s.corked = true;
	s.socket.cork();
	process.nextTick(() => { s.corked = false; s.socket.uncork(); });
}
function send(s, pdu, onResp) {
	if (args['log-out']) log(Object.assign(baseRecord(s, pdu), { dir: 'out' }));
	cork(s);
	return s.send(pdu, onResp);
}
function respond(s, pdu, st, fields) {
	countAnswer(st);
	if (st !== 0 && B.error_resp_body && pdu.command === 'submit_sm') {
		// node-smpp sends a header-only PDU for a non-zero status; some SMSCs
		// add an empty message_id: 17 octets.
		const b = Buffer.alloc(17);
		b.writeUInt32BE(17, 0); b.writeUInt32BE(0x80000004, 4);
		b.writeUInt32BE(st, 8); b.writeUInt32BE(pdu.sequence_number, 12);
		if (!s.closed && s.socket.writable) { cork(s); s.socket.write(b); }
		return;
	}
	const o = Object.assign({ command_status: st }, fields || {});
	send(s, pdu.response(o));
}

function dropSession(s, rst) {
	if (s.closed) return;
	stats.drops++;
	if (rst && typeof s.socket.resetAndDestroy === 'function') s.socket.resetAndDestroy();
	else s.socket.destroy();
}

function onBind(s, pdu) {
	const rec = baseRecord(s, pdu);
	rec.system_id = pdu.system_id; rec.password = pdu.password; rec.system_type = pdu.system_type;
	rec.interface_version = pdu.interface_version; rec.addr_ton = pdu.addr_ton; rec.addr_npi = pdu.addr_npi;
	rec.address_range = pdu.address_range;
	let st = ST.OK;
	if (s.bound) st = ST.ALYBND;
	else if (B.bind_refuse) st = B.bind_status;
	else if (B.accounts) {
		if (!(pdu.system_id in B.accounts)) st = ST.INVSYSID;
		else if (B.accounts[pdu.system_id] !== null && B.accounts[pdu.system_id] !== pdu.password) st = ST.INVPASWD;
	} else if (B.password !== null && pdu.password !== B.password) st = ST.INVPASWD;
	rec.answer_status = st;
	log(rec); remember(rec);
	if (st !== ST.OK) {
		if (st !== ST.ALYBND) stats.binds_refused++;
		countAnswer(st);
		send(s, pdu.response({ command_status: st }));
		if (st !== ST.ALYBND && B.close_on_refuse) s.socket.end();
		return;
	}
	s.bound = true; s.bind = pdu.command; s.system_id = pdu.system_id;
	stats.binds++;
	countAnswer(st);
	send(s, pdu.response({ system_id: 'SMSRTEST', sc_interface_version: 0x34 }));
	if (CAN_RX[s.bind]) flushQueuedReceipts(s.system_id);
}

function onSubmit(s, pdu) {
	stats.submits++;
	const rec = baseRecord(s, pdu);
	rec.service_type = pdu.service_type;
	rec.source_addr = pdu.source_addr; rec.source_addr_ton = pdu.source_addr_ton; rec.source_addr_npi = pdu.source_addr_npi;
	rec.destination_addr = pdu.destination_addr; rec.dest_addr_ton = pdu.dest_addr_ton; rec.dest_addr_npi = pdu.dest_addr_npi;
	rec.esm_class = pdu.esm_class; rec.protocol_id = pdu.protocol_id; rec.priority_flag = pdu.priority_flag;
	rec.registered_delivery = pdu.registered_delivery; rec.data_coding = pdu.data_coding;
	rec.validity_period = pdu.validity_period || '';
	const sm = Buffer.isBuffer(pdu.short_message) ? pdu.short_message : Buffer.alloc(0);
	rec.short_message = sm.toString('hex');
	const tl = tlvsOf(pdu);
	if (tl) rec.tlvs = tl;

	if (!s.bound || !CAN_TX[s.bind]) {
		rec.answer_status = ST.INVBNDSTS; rec.message_id = null;
		log(rec); remember(rec);
		respond(s, pdu, ST.INVBNDSTS);
		return;
	}
	let dropNow = false;
	if (B.drop_after) {
		if (--B.drop_after.n <= 0) { dropNow = B.drop_after.all ? 'all' : 'this'; B.drop_after = null; }
	}
	const doDrop = () => {
		if (dropNow === 'all') for (const x of [...sessions]) dropSession(x);
		else if (dropNow) dropSession(s);
	};
	if (B.swallow) {
		stats.submits_swallowed++;
		rec.answer_status = null; rec.message_id = null;
		log(rec); remember(rec);
		if (dropNow) doDrop();
		return;
	}
	let st = ST.OK;
	if (throttled()) st = B.throttle_status;
	else for (const r of B.reject) if (r.prefix === null || pdu.destination_addr.startsWith(r.prefix)) { st = r.status; break; }
	let mid = null;
	if (st === ST.OK) mid = nextId();
	rec.answer_status = st; rec.message_id = mid ? mid.id : null;
	const d = pick(B.delay);
	if (d > 0) rec.delay_ms = Math.round(d);
	log(rec); remember(rec);

	const answer = () => {
		if (s.closed) return;
		if (st === ST.OK) respond(s, pdu, ST.OK, { message_id: mid.id });
		else respond(s, pdu, st);
		if (dropNow) {
			// Let the answer reach the socket first.
			setImmediate(doDrop);
		}
	};
	if (d > 0) answers.later(d, answer); else answer();
	if (st === ST.OK) planReceipt(s, pdu, sm, mid, d);
}

// ---------------------------------------------------------------- throttling
let tokens = null, tokensAt = 0, shareAcc = 0;
function throttled() {
	if (B.throttle_rate > 0) {
		const burst = B.throttle_burst > 0 ? B.throttle_burst : B.throttle_rate;
		const now = performanceNow();
		if (tokens === null) { tokens = burst; tokensAt = now; }
		tokens = Math.min(burst, tokens + (now - tokensAt) * B.throttle_rate / 1000);
		tokensAt = now;
		if (tokens < 1) return true;
		tokens -= 1;
	}
	if (B.throttle_share > 0) {
		shareAcc += B.throttle_share;
		if (shareAcc >= 1 - 1e-9) { shareAcc -= 1; return true; }
	}
	return false;
}
function performanceNow() { const t = process.hrtime(); return t[0] * 1e3 + t[1] / 1e6; }

// ---------------------------------------------------------------- receipts
const pending = scheduler();   // planned receipts
const answers = scheduler();   // delayed submit_sm_resp
const queued = new Map();      // system_id -> [receipt] waiting for a receiver bind
const recent = new Map();      // message_id -> receipt record (the last 200000)
let receiptAcc = 0;

function yymmddhhmm(d) {
	const p = n => String(n).padStart(2, '0');
	return p(d.getUTCFullYear() % 100) + p(d.getUTCMonth() + 1) + p(d.getUTCDate()) + p(d.getUTCHours()) + p(d.getUTCMinutes());
}
// The first 20 characters of the text, as ASCII, for the receipt's text: field.
function textOf(dc, buf, esm) {
	if (esm & 0x40 && buf.length) buf = buf.slice(buf[0] + 1);
	let t;
	if ((dc & 0x0F) === 8) t = smpp.encodings.UCS2.decode(buf.slice(0, 40));
	else if ((dc & 0x0F) <= 3) t = buf.slice(0, 20).toString('latin1'); // GSM letters and digits are ASCII's
	else t = '';
	return t.slice(0, 20).replace(/[^\x20-\x7E]/g, '?');
}

function planReceipt(s, pdu, sm, mid, answerDelay) {
	const rd = pdu.registered_delivery & 0x03;
	let stat = B.receipt_stat, err = B.receipt_err;
	for (const r of B.receipt_rules) if (pdu.destination_addr.startsWith(r.prefix)) { stat = r.stat; err = r.err; break; }
	const r = {
		system_id: s.system_id, id: mid.id, fmt: mid.fmt,
		src: pdu.source_addr, src_ton: pdu.source_addr_ton, src_npi: pdu.source_addr_npi,
		dst: pdu.destination_addr, dst_ton: pdu.dest_addr_ton, dst_npi: pdu.dest_addr_npi,
		submitted: new Date(),
		text: textOf(pdu.data_coding, sm.length ? sm : (Buffer.isBuffer(pdu.message_payload) ? pdu.message_payload : sm), pdu.esm_class),
		stat, err,
	};
	recent.set(r.id, r);
	if (recent.size > 200000) recent.delete(recent.keys().next().value);
	if (!B.receipts) return;
	const success = stat === 'DELIVRD' || stat === 'ACCEPTD';
	if (!B.receipts_always && !(rd === 1 || (rd === 2 && !success) || (rd === 3 && success))) return;
	if (B.receipt_share < 1) {
		receiptAcc += B.receipt_share;
		if (receiptAcc < 1 - 1e-9) { stats.receipts_skipped++; return; }
		receiptAcc -= 1;
	}
	pending.later(answerDelay + pick(B.receipt_delay), () => deliverReceipt(r, null));
}

function receiptPdu(r, o) {
	const form = o.id_form || B.receipt_id_form;
	const idIn = o.id_in || B.receipt_id;
	const rid = receiptId(r.id, r.fmt, form);
	const stat = o.stat ? statName(o.stat) : r.stat;
	const err = o.err !== undefined ? errField(o.err) : r.err;
	const done = new Date();
	const text = 'id:' + rid + ' sub:001 dlvrd:' + (stat === 'DELIVRD' ? '001' : '000') +
		' submit date:' + yymmddhhmm(r.submitted) + ' done date:' + yymmddhhmm(done) +
		' stat:' + stat + ' err:' + err + ' text:' + r.text;
	const f = {
		service_type: '',
		source_addr_ton: r.dst_ton, source_addr_npi: r.dst_npi, source_addr: r.dst,
		dest_addr_ton: r.src_ton, dest_addr_npi: r.src_npi, destination_addr: r.src,
		esm_class: 0x04, data_coding: 0,
		short_message: idIn === 'tlv' ? Buffer.alloc(0) : Buffer.from(text, 'ascii'),
	};
	if (idIn !== 'text') {
		f.receipted_message_id = rid;
		f.message_state = MSG_STATE[stat];
		const e = parseInt(err, 10);
		if (e > 0) f.network_error_code = Buffer.from([3, (e >> 8) & 0xFF, e & 0xFF]);
	}
	return { pdu: new smpp.PDU('deliver_sm', f), text, rid, stat };
}

function deliverReceipt(r, o, target) {
	o = o || {};
	const s = target || nextReceiver(r.system_id);
	if (!s) {
		if (r.system_id == null) return null;
		if (!queued.has(r.system_id)) queued.set(r.system_id, []);
		queued.get(r.system_id).push(r);
		stats.receipts_queued++;
		return null;
	}
	const p = receiptPdu(r, o);
	stats.receipts_sent++;
	send(s, p.pdu, resp => {
		if (resp.command_status === 0) stats.receipts_acked++; else stats.receipts_nacked++;
	});
	return { conn: s.conn, system_id: s.system_id, sequence_number: p.pdu.sequence_number, id: p.rid, stat: p.stat, text: p.text };
}

function flushQueuedReceipts(system_id) {
	const q = queued.get(system_id);
	if (!q) return;
	queued.delete(system_id);
	for (const r of q) { stats.receipts_queued--; deliverReceipt(r, null); }
}

// ---------------------------------------------------------------- MO
let udhRef = 0, sarRef = 0;
function isGsm(text) { return smpp.encodings.ASCII.match(text); }
function encodeText(text, dc) {
	if (dc === 8) return smpp.encodings.UCS2.encode(text);
	if (dc === 3) return smpp.encodings.LATIN1.encode(text);
	return smpp.gsmCoder.encode(text, 0); // GSM 03.38, one septet per octet
}
function addrFields(a, ton, npi) {
	a = String(a);
	let t = 0, n = 1;
	if (a.startsWith('+')) { a = a.slice(1); t = 1; n = 1; }
	else if (/[^0-9]/.test(a)) { t = 5; n = 0; }
	return { addr: a, ton: ton !== undefined ? ton : t, npi: npi !== undefined ? npi : n };
}
// Split text into parts by code point, each encoding to at most max octets
// (or into exactly n parts when n is given).
function splitText(text, dc, n, max) {
	const cps = Array.from(text);
	const parts = [];
	if (n) {
		const per = Math.ceil(cps.length / n);
		for (let i = 0; i < n; i++) parts.push(cps.slice(i * per, (i + 1) * per).join(''));
		return parts;
	}
	let cur = '';
	for (const c of cps) {
		if (encodeText(cur + c, dc).length > max) { parts.push(cur); cur = c; } else cur += c;
	}
	parts.push(cur);
	return parts;
}

function sendMo(o) {
	const text = String(o.text !== undefined ? o.text : '');
	const dc = o.data_coding !== undefined ? num(o.data_coding, 'data_coding') : (isGsm(text) ? 0 : 8);
	const from = o.keep_plus ? { addr: String(o.from), ton: o.from_ton || 0, npi: o.from_npi || 0 } : addrFields(o.from, o.from_ton, o.from_npi);
	const to = o.keep_plus ? { addr: String(o.to), ton: o.to_ton || 0, npi: o.to_npi || 0 } : addrFields(o.to, o.to_ton, o.to_npi);
	const concat = o.concat || 'udh';
	if (!['udh', 'udh16', 'sar', 'payload'].includes(concat)) throw new Error('concat is udh, udh16, sar or payload');
	const s = nextReceiver(o.system_id === undefined ? null : o.system_id);
	if (!s) throw new Error('no receiver bind' + (o.system_id !== undefined ? ' for system_id ' + o.system_id : ''));
	const whole = encodeText(text, dc);
	let bodies;
	if (concat === 'payload') bodies = [text];
	else if (o.parts !== undefined) bodies = splitText(text, dc, num(o.parts, 'parts'));
	else if (whole.length <= (dc === 0 ? 160 : 140)) bodies = [text];
	else bodies = splitText(text, dc, 0, dc === 0 ? (concat === 'udh16' ? 152 : 153) : (concat === 'udh16' ? 132 : 134));
	const total = bodies.length;
	const ref8 = (udhRef = (udhRef % 255) + 1);
	const ref16 = (sarRef = (sarRef % 65535) + 1);
	const seqs = [];
	bodies.forEach((body, i) => {
		const f = {
			service_type: '',
			source_addr_ton: from.ton, source_addr_npi: from.npi, source_addr: from.addr,
			dest_addr_ton: to.ton, dest_addr_npi: to.npi, destination_addr: to.addr,
			esm_class: 0, data_coding: dc,
		};
		let sm = encodeText(body, dc);
		if (concat === 'payload') {
			f.short_message = Buffer.alloc(0);
			f.message_payload = whole;
		} else if (total > 1 && concat === 'udh') {
			f.esm_class = 0x40;
			f.short_message = Buffer.concat([Buffer.from([5, 0, 3, ref8, total, i + 1]), sm]);
		} else if (total > 1 && concat === 'udh16') {
			f.esm_class = 0x40;
			f.short_message = Buffer.concat([Buffer.from([6, 8, 4, ref16 >> 8, ref16 & 0xFF, total, i + 1]), sm]);
		} else if (total > 1 && concat === 'sar') {
			f.short_message = sm;
			f.sar_msg_ref_num = ref16; f.sar_total_segments = total; f.sar_segment_seqnum = i + 1;
		} else f.short_message = sm;
		if (f.short_message.length > 254) throw new Error('part ' + (i + 1) + ' is ' + f.short_message.length + ' octets; use more parts or concat payload');
		const p = new smpp.PDU('deliver_sm', f);
		stats.mos_sent++;
		send(s, p, resp => { if (resp.command_status === 0) stats.mos_acked++; else stats.mos_nacked++; });
		seqs.push(p.sequence_number);
	});
	return { conn: s.conn, system_id: s.system_id, parts: total, data_coding: dc, sequence_numbers: seqs };
}

// ---------------------------------------------------------------- server
const server = smpp.createServer({}, s => {
	s.conn = ++connSeq;
	s.bound = false; s.bind = null; s.system_id = null;
	sessions.add(s);
	stats.connections++; stats.connections_total++;
	s.socket.setNoDelay(true);
	s.on('close', () => {
		if (sessions.delete(s)) stats.connections--;
		log({ t: Date.now() - T0, conn: s.conn, system_id: s.system_id, event: 'close' });
	});
	s.on('error', e => {
		if (e && e.code !== 'ECONNRESET' && e.code !== 'EPIPE') {
			stats.pdu_errors++;
			process.stderr.write('smsc.js: conn ' + s.conn + ': ' + e.message + '\n');
		}
		s.socket.destroy();
	});
	s.on('pdu', pdu => {
		try { onPdu(s, pdu); } catch (e) {
			process.stderr.write('smsc.js: conn ' + s.conn + ': ' + (e.stack || e) + '\n');
		}
	});
});

function onPdu(s, pdu) {
	switch (pdu.command) {
	case 'bind_transceiver': case 'bind_transmitter': case 'bind_receiver':
		return onBind(s, pdu);
	case 'submit_sm':
		return onSubmit(s, pdu);
	case 'enquire_link': {
		stats.enquire_links++;
		const rec = baseRecord(s, pdu);
		rec.answered = B.enquire_link_resp;
		log(rec);
		if (B.enquire_link_resp) { stats.enquire_links_answered++; send(s, pdu.response()); }
		return;
	}
	case 'unbind': {
		stats.unbinds++;
		log(baseRecord(s, pdu));
		s.bound = false;
		send(s, pdu.response());
		s.socket.end();
		return;
	}
	}
	const rec = baseRecord(s, pdu);
	if (pdu.command === 'deliver_sm_resp' || pdu.command === 'data_sm_resp') rec.message_id = pdu.message_id;
	log(rec);
	if (pdu.command === 'enquire_link_resp') { stats.enquire_link_resps++; return; }
	if (pdu.command === 'generic_nack') { stats.generic_nacks++; return; }
	if (pdu.isResponse()) return; // deliver_sm_resp, unbind_resp: counted by their callbacks
	stats.other_pdus++;
	countAnswer(ST.INVCMDID);
	send(s, pdu.response({ command_status: ST.INVCMDID })); // generic_nack for unknown ids
}

// Our own enquire_link every B.enquire_link seconds.
let elTimer = null;
function setEnquireLink(sec) {
	B.enquire_link = sec;
	if (elTimer) { clearInterval(elTimer); elTimer = null; }
	if (sec > 0) elTimer = setInterval(sendEnquireLinks, sec * 1000);
}
function sendEnquireLinks() {
	let n = 0;
	for (const s of sessions) if (s.bound && !s.closed) {
		stats.enquire_links_sent++; n++;
		send(s, new smpp.PDU('enquire_link', {}));
	}
	return n;
}

// ---------------------------------------------------------------- control
const waiters = new Set();
function counter(name) {
	if (name in stats && typeof stats[name] === 'number') return stats[name];
	if (name === 'bound') { let n = 0; for (const s of sessions) if (s.bound) n++; return n; }
	if (name.startsWith('answered.')) return stats.answered[name.slice(9)] || 0;
	throw new Error('unknown counter ' + name);
}

function snapshot() {
	const bound = { transceiver: 0, transmitter: 0, receiver: 0 };
	for (const s of sessions) if (s.bound) bound[s.bind.slice(5)]++;
	return Object.assign({}, stats, { answered: Object.assign({}, stats.answered), bound,
		receipts_pending: pending.size });
}

function control(o) {
	const on = o.on === undefined ? true : !!o.on;
	switch (o.cmd) {
	case 'ping':
		return {};
	case 'accept': {
		const b = Object.assign({}, B);
		b.reject = []; b.swallow = false; b.throttle_rate = 0; b.throttle_share = 0; b.delay = [0, 0];
		if (o.id_format !== undefined) b.id_format = o.id_format;
		if (o.id_zeros !== undefined) b.id_zeros = !!o.id_zeros;
		if (o.id_case !== undefined) b.id_case = o.id_case;
		checkBehaviour(b);
		if (b.id_zeros !== B.id_zeros && o.id_start === undefined) idCounter = null;
		if (o.id_start !== undefined) idCounter = num(o.id_start, 'id_start');
		B = b;
		return {};
	}
	case 'reject':
		if (o.off || o.clear) { B.reject = []; return {}; }
		B.reject.push({ status: status(o.status === undefined ? ST.SYSERR : o.status, 'status'), prefix: o.prefix === undefined ? null : String(o.prefix) });
		return { rules: B.reject.length };
	case 'throttle':
		if (o.off) { B.throttle_rate = 0; B.throttle_share = 0; tokens = null; return {}; }
		if (o.rate !== undefined) { B.throttle_rate = num(o.rate, 'rate'); tokens = null; }
		if (o.burst !== undefined) { B.throttle_burst = num(o.burst, 'burst'); tokens = null; }
		if (o.share !== undefined) { const v = num(o.share, 'share'); if (!(v >= 0 && v <= 1)) throw new Error('share is 0..1'); B.throttle_share = v; shareAcc = 0; }
		if (o.status !== undefined) B.throttle_status = status(o.status, 'status');
		return {};
	case 'delay':
		B.delay = o.ms !== undefined ? range(o.ms, 'ms') : range({ min: o.min, max: o.max }, 'delay');
		return {};
	case 'swallow':
		B.swallow = on;
		return {};
	case 'error_resp_body':
		B.error_resp_body = on;
		return {};
	case 'drop': {
		if (o.after !== undefined) {
			B.drop_after = { n: num(o.after, 'after'), all: !!o.all };
			return {};
		}
		let n = 0;
		for (const s of [...sessions]) if (o.system_id === undefined || s.system_id === o.system_id) { dropSession(s, !!o.rst); n++; }
		return { dropped: n };
	}
	case 'unbind': {
		let n = 0;
		for (const s of sessions) if (s.bound && (o.system_id === undefined || s.system_id === o.system_id)) {
			n++; s.bound = false;
			send(s, new smpp.PDU('unbind', {}), () => s.socket.end());
		}
		return { unbound: n };
	}
	case 'pause': {
		let n = 0;
		for (const s of sessions) if (o.system_id === undefined || s.system_id === o.system_id) {
			n++;
			if (on) s.pause(); else s.resume();
		}
		return { sessions: n };
	}
	case 'bind':
		if (o.refuse !== undefined) B.bind_refuse = !!o.refuse;
		if (o.status !== undefined) B.bind_status = status(o.status, 'status');
		if (o.password !== undefined) B.password = o.password;
		if (o.accounts !== undefined) B.accounts = o.accounts;
		if (o.close_on_refuse !== undefined) B.close_on_refuse = !!o.close_on_refuse;
		return {};
	case 'receipts': {
		const b = Object.assign({}, B);
		if (o.on !== undefined) b.receipts = !!o.on;
		if (o.always !== undefined) b.receipts_always = !!o.always;
		if (o.delay !== undefined) b.receipt_delay = range(o.delay, 'delay');
		if (o.stat !== undefined) b.receipt_stat = statName(o.stat);
		if (o.err !== undefined) b.receipt_err = errField(o.err);
		if (o.rules !== undefined) b.receipt_rules = o.rules.map(r => ({ prefix: String(r.prefix), stat: statName(r.stat), err: errField(r.err) }));
		if (o.id_in !== undefined) b.receipt_id = o.id_in;
		if (o.id_form !== undefined) b.receipt_id_form = o.id_form;
		if (o.share !== undefined) { b.receipt_share = num(o.share, 'share'); receiptAcc = 0; }
		if (o.mode === 'dlr_id_mismatch') { b.id_format = 'hex'; b.receipt_id_form = 'dec'; }
		else if (o.mode === 'normal') b.receipt_id_form = 'same';
		else if (o.mode !== undefined) throw new Error('mode is dlr_id_mismatch or normal');
		checkBehaviour(b);
		B = b;
		return {};
	}
	case 'receipt': {
		// A receipt now: for a message id we issued (again), or for any id.
		if (o.id === undefined) throw new Error('receipt needs an id');
		const known = recent.get(String(o.id));
		const r = known ? Object.assign({}, known) : {
			system_id: o.system_id === undefined ? null : o.system_id, id: String(o.id), fmt: 'raw',
			src: o.to || '1069', src_ton: 0, src_npi: 1, dst: o.from || '8613800000000', dst_ton: 1, dst_npi: 1,
			submitted: new Date(), text: '', stat: 'DELIVRD', err: '000',
		};
		if (o.system_id !== undefined) r.system_id = o.system_id;
		const target = nextReceiver(r.system_id);
		if (!target) throw new Error('no receiver bind');
		const res = deliverReceipt(r, { stat: o.stat, err: o.err, id_form: o.id_form, id_in: o.id_in }, target);
		res.known = !!known;
		return res;
	}
	case 'mo':
		return sendMo(o);
	case 'enquire_link_resp':
		B.enquire_link_resp = on;
		return {};
	case 'enquire_link':
		if (o.every !== undefined) { setEnquireLink(num(o.every, 'every')); return {}; }
		return { sent: sendEnquireLinks() };
	case 'stats':
		return snapshot();
	case 'reset':
		stats = zeroStats();
		for (const s of sessions) stats.connections++;
		stats.connections_total = stats.connections;
		if (o.all) {
			pending.cancel(); queued.clear(); recent.clear();
			B = initialBehaviour(); setEnquireLink(B.enquire_link);
			tokens = null; shareAcc = 0; receiptAcc = 0; idCounter = args['id-start'] !== undefined ? num(args['id-start'], 'id-start') : null;
		}
		ring.length = 0;
		return {};
	case 'last': {
		const n = o.n === undefined ? 1 : num(o.n, 'n');
		let recs = ring;
		if (o.command) recs = recs.filter(r => r.command === o.command);
		return { records: recs.slice(-n) };
	}
	case 'config':
		return { behaviour: B };
	case 'quit':
		setImmediate(shutdown);
		return {};
	}
	throw new Error('unknown cmd ' + JSON.stringify(o.cmd));
}

// {"cmd":"wait","counter":"submits","n":N,"timeout_ms":T}: answers once the
// counter reaches n (or with ok:false on timeout).
function wait(o) {
	const name = o.counter || 'submits';
	const n = num(o.n, 'n');
	counter(name);
	const deadline = Date.now() + (o.timeout_ms === undefined ? 10000 : num(o.timeout_ms, 'timeout_ms'));
	return new Promise(resolve => {
		const check = () => {
			const v = counter(name);
			if (v >= n) { clearInterval(iv); waiters.delete(iv); resolve({ ok: true, value: v }); }
			else if (Date.now() >= deadline) { clearInterval(iv); waiters.delete(iv); resolve({ ok: false, error: 'timeout', value: v }); }
		};
		const iv = setInterval(check, 2);
		waiters.add(iv);
		check();
	});
}

async function answerLine(line) {
	let o;
	try { o = JSON.parse(line); } catch (e) { return { ok: false, error: 'bad json: ' + e.message }; }
	if (!o || typeof o !== 'object') return { ok: false, error: 'not an object' };
	try {
		if (o.cmd === 'wait') return await wait(o);
		return Object.assign({ ok: true }, control(o));
	} catch (e) {
		return { ok: false, error: e.message };
	}
}

const controlClients = new Set();
const controlServer = net.createServer(c => {
	controlClients.add(c);
	c.setEncoding('utf8');
	let buf = '';
	let chain = Promise.resolve();
	c.on('data', d => {
		buf += d;
		let i;
		while ((i = buf.indexOf('\n')) >= 0) {
			const line = buf.slice(0, i).trim();
			buf = buf.slice(i + 1);
			if (!line) continue;
			// One answer per line, in order.
			chain = chain.then(() => answerLine(line)).then(a => { if (!c.destroyed) c.write(JSON.stringify(a) + '\n'); });
		}
	});
	c.on('error', () => {});
	c.on('close', () => controlClients.delete(c));
});

// ---------------------------------------------------------------- life
let shuttingDown = false;
function shutdown() {
	if (shuttingDown) return;
	shuttingDown = true;
	try { server.close(); } catch (e) { /* */ }
	try { controlServer.close(); } catch (e) { /* */ }
	for (const s of sessions) s.socket.destroy();
	for (const c of controlClients) c.destroy();
	flushLog();
	if (logFd !== null) fs.closeSync(logFd);
	process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.on('SIGHUP', shutdown);
if (args['exit-on-stdin-eof']) {
	process.stdin.on('end', shutdown);
	process.stdin.on('close', shutdown);
	process.stdin.on('error', shutdown);
	process.stdin.resume();
}
if (args['max-runtime'] !== undefined) setTimeout(shutdown, num(args['max-runtime'], 'max-runtime') * 1000).unref();
server.on('error', e => { process.stderr.write('smsc.js: ' + e.message + '\n'); process.exit(1); });
controlServer.on('error', e => { process.stderr.write('smsc.js: control: ' + e.message + '\n'); process.exit(1); });

const host = args.host || '127.0.0.1';
function listen(srv, port) {
	return new Promise(resolve => srv.listen({ host, port: num(port, 'port') }, () => resolve(srv.address().port)));
}
(async () => {
	const port = await listen(server, args.port === undefined ? 0 : args.port);
	let ctl = null;
	if (args['control-port'] !== undefined) ctl = await listen(controlServer, args['control-port']);
	setEnquireLink(B.enquire_link);
	const ready = JSON.stringify({ port, control: ctl, pid: process.pid }) + '\n';
	if (args['ready-file']) {
		const f = args['ready-file'];
		const tmp = path.join(path.dirname(f), '.' + path.basename(f) + '.' + process.pid);
		fs.writeFileSync(tmp, ready);
		fs.renameSync(tmp, f);
	} else process.stderr.write('smsc.js: listening ' + ready);
})();
