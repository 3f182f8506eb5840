#!/usr/bin/env node
// Self-test of smsc.js: starts it, talks to it as an ESME (node-smpp) and
// over its control port, prints one line per check and "N passed, N failed".
// Exit status 0 when every check passed.
'use strict';

const fs = require('fs');
const os = require('os');
const net = require('net');
const path = require('path');
const { spawn } = require('child_process');
const smpp = require('smpp');

// Raw octets on this side too (no text decoding by node-smpp).
for (const c of Object.keys(smpp.commands)) {
	const params = smpp.commands[c].params || {};
	for (const k of Object.keys(params)) delete params[k].filter;
}
for (const t of Object.keys(smpp.tlvs)) delete smpp.tlvs[t].filter;

const SMSC = path.join(__dirname, 'smsc.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsc-selftest-'));
const sleep = ms => new Promise(r => setTimeout(r, ms));
let passed = 0, failed = 0;

function check(name, cond, detail) {
	if (cond) { passed++; console.log('ok - ' + name); }
	else { failed++; console.log('FAIL - ' + name + (detail !== undefined ? ': ' + (typeof detail === 'string' ? detail : JSON.stringify(detail)) : '')); }
}

async function waitFile(f, ms) {
	const end = Date.now() + ms;
	while (Date.now() < end) {
		try { return JSON.parse(fs.readFileSync(f, 'utf8')); } catch (e) { await sleep(20); }
	}
	throw new Error('no ready file ' + f);
}

function startSmsc(extra, name) {
	const ready = path.join(dir, name + '.ready');
	const logf = path.join(dir, name + '.log');
	const p = spawn(process.execPath, [SMSC, '--port', '0', '--ready-file', ready, '--control-port', '0',
		'--log', logf, '--exit-on-stdin-eof', '--max-runtime', '120', ...extra],
	{ stdio: ['pipe', 'inherit', 'inherit'] });
	const exited = new Promise(r => p.on('exit', (code, sig) => r({ code, sig })));
	return waitFile(ready, 10000).then(r => ({ proc: p, exited, port: r.port, control: r.control, logf }));
}

// Control client: one JSON line out, one JSON line back.
function controlClient(port) {
	return new Promise((resolve, reject) => {
		const c = net.connect(port, '127.0.0.1');
		let buf = '';
		const q = [];
		c.setEncoding('utf8');
		c.on('data', d => {
			buf += d;
			let i;
			while ((i = buf.indexOf('\n')) >= 0) { const l = buf.slice(0, i); buf = buf.slice(i + 1); q.shift()(JSON.parse(l)); }
		});
		c.on('error', reject);
		c.on('connect', () => resolve({
			cmd: o => new Promise(r => { q.push(r); c.write(JSON.stringify(o) + '\n'); }),
			close: () => c.end(),
		}));
	});
}

// An ESME: node-smpp session with a queue of received deliver_sm.
function esme(port) {
	return new Promise((resolve, reject) => {
		const s = smpp.connect({ host: '127.0.0.1', port }, () => resolve(s));
		s.delivered = [];
		s.ackStatus = 0;
		s.closedP = new Promise(r => s.on('close', r));
		s.on('error', e => { if (!s.closed) reject(e); });
		s.on('deliver_sm', pdu => {
			s.delivered.push(pdu);
			s.send(pdu.response({ command_status: s.ackStatus }));
		});
	});
}
function call(s, cmd, opts) {
	return new Promise(resolve => s[cmd](opts || {}, resp => resolve(resp)));
}
function submit(s, to, text, o) {
	return call(s, 'submit_sm', Object.assign({
		source_addr: 'SMSR', source_addr_ton: 5, source_addr_npi: 0,
		destination_addr: to, dest_addr_ton: 1, dest_addr_npi: 1,
		registered_delivery: 1, data_coding: 0, short_message: Buffer.from(text, 'ascii'),
	}, o || {}));
}
async function waitFor(fn, ms) {
	const end = Date.now() + (ms || 3000);
	for (;;) {
		const v = fn();
		if (v) return v;
		if (Date.now() > end) return null;
		await sleep(10);
	}
}
function withTimeout(p, ms) { return Promise.race([p, sleep(ms).then(() => 'timeout')]); }
const smText = pdu => Buffer.isBuffer(pdu.short_message) ? pdu.short_message.toString('latin1') : '';
const cstr = v => Buffer.isBuffer(v) ? v.toString('ascii').replace(/\0+$/, '') : v;

async function main() {
	const A = await startSmsc(['--password', 'secret'], 'a');
	const ctl = await controlClient(A.control);
	check('ready file has port and control port', A.port > 0 && A.control > 0, A);
	check('control ping', (await ctl.cmd({ cmd: 'ping' })).ok === true);

	// --- binds
	let e0 = await esme(A.port);
	let r = await call(e0, 'bind_transceiver', { system_id: 'smsr', password: 'wrong' });
	check('bind with a wrong password refused with 0x0E', r.command_status === 0x0E, r.command_status);
	await withTimeout(e0.closedP, 1000);
	check('connection closed after the refused bind', e0.closed === true);

	const e1 = await esme(A.port);
	r = await call(e1, 'bind_transceiver', { system_id: 'smsr', password: 'secret' });
	check('bind_transceiver accepted', r.command_status === 0 && r.system_id === 'SMSRTEST', r);
	r = await call(e1, 'bind_transceiver', { system_id: 'smsr', password: 'secret' });
	check('second bind on a bound session: 0x05 ESME_RALYBND', r.command_status === 0x05, r.command_status);

	// --- submits and receipts
	const ids = [];
	for (let i = 0; i < 3; i++) {
		r = await submit(e1, '8613900000' + i, 'hello ' + i);
		ids.push(r.message_id);
		if (r.command_status !== 0) break;
	}
	check('3 submits accepted with hex ids', ids.length === 3 && ids.every(x => /^[0-9A-F]{8}$/.test(x)) && new Set(ids).size === 3, ids);
	const rcpts = await waitFor(() => e1.delivered.length >= 3 && e1.delivered.slice(0, 3), 3000);
	check('3 receipts (deliver_sm esm_class 0x04) on the transceiver',
		rcpts && rcpts.every(p => p.esm_class === 0x04), rcpts && rcpts.map(p => p.esm_class));
	const rcptOk = rcpts && rcpts.every((p, i) => cstr(p.receipted_message_id) === ids[i] && p.message_state === 2 &&
		new RegExp('^id:' + ids[i] + ' sub:001 dlvrd:001 submit date:\\d{10} done date:\\d{10} stat:DELIVRD err:000 text:hello ' + i + '$').test(smText(p)) &&
		p.source_addr === '8613900000' + i && p.destination_addr === 'SMSR');
	check('receipts carry the id in receipted_message_id and in the text, stat DELIVRD', rcptOk, rcpts && rcpts.map(p => [cstr(p.receipted_message_id), smText(p)]));
	await sleep(100);
	let st = await ctl.cmd({ cmd: 'stats' });
	check('stats: 1 bind, 1 refused, 3 submits, 3 receipts sent and acknowledged',
		st.binds === 1 && st.binds_refused === 1 && st.submits === 3 && st.answered['0'] >= 4 &&
		st.receipts_sent === 3 && st.receipts_acked === 3, st);
	const logged = fs.readFileSync(A.logf, 'utf8').trim().split('\n').map(JSON.parse).filter(x => x.command === 'submit_sm');
	check('log has each submit_sm with addresses, dcs, hex text and the answered id',
		logged.length === 3 && logged[0].short_message === Buffer.from('hello 0').toString('hex') &&
		logged[0].destination_addr === '86139000000' && logged[0].dest_addr_ton === 1 && logged[0].source_addr_ton === 5 &&
		logged[0].registered_delivery === 1 && logged[0].data_coding === 0 && logged[0].message_id === ids[0], logged[0]);

	// --- TLVs logged
	await submit(e1, '8613911111111', '', { message_payload: Buffer.from('long text'), registered_delivery: 0 });
	await submit(e1, '8613911111111', 'part', { sar_msg_ref_num: 7, sar_total_segments: 2, sar_segment_seqnum: 1, registered_delivery: 0 });
	r = await ctl.cmd({ cmd: 'last', n: 2, command: 'submit_sm' });
	check('message_payload (hex) and sar_* TLVs logged',
		r.records[0].tlvs && r.records[0].tlvs.message_payload === Buffer.from('long text').toString('hex') &&
		r.records[1].tlvs && r.records[1].tlvs.sar_msg_ref_num === 7 && r.records[1].tlvs.sar_total_segments === 2, r.records);

	// --- reject by prefix
	r = await ctl.cmd({ cmd: 'reject', status: 11, prefix: '86138' });
	const rj = await submit(e1, '8613800000001', 'x');
	const ac = await submit(e1, '8613700000001', 'x');
	check('reject by destination prefix: 0x0B, others accepted', rj.command_status === 0x0B && ac.command_status === 0, [rj.command_status, ac.command_status]);
	await ctl.cmd({ cmd: 'accept' });

	// --- throttle (token bucket)
	await ctl.cmd({ cmd: 'throttle', rate: 5 });
	let rs = await Promise.all(Array.from({ length: 20 }, () => submit(e1, '8613700000002', 'x', { registered_delivery: 0 })));
	let thr = rs.filter(x => x.command_status === 0x58).length;
	check('throttle rate 5/s: a burst of 20 gets 0x58 for about 15', thr >= 12 && thr <= 15, thr);
	await ctl.cmd({ cmd: 'throttle', off: true });
	await ctl.cmd({ cmd: 'throttle', share: 0.25 });
	rs = await Promise.all(Array.from({ length: 20 }, () => submit(e1, '8613700000002', 'x', { registered_delivery: 0 })));
	thr = rs.filter(x => x.command_status === 0x58).length;
	check('throttle share 0.25: 5 of 20 get 0x58', thr === 5, thr);
	await ctl.cmd({ cmd: 'throttle', off: true });

	// --- delay, swallow
	await ctl.cmd({ cmd: 'delay', ms: 200 });
	let t0 = Date.now();
	r = await submit(e1, '8613700000003', 'x', { registered_delivery: 0 });
	check('delay 200 ms', r.command_status === 0 && Date.now() - t0 >= 190, Date.now() - t0);
	await ctl.cmd({ cmd: 'delay', ms: 0 });
	await ctl.cmd({ cmd: 'swallow', on: true });
	r = await withTimeout(submit(e1, '8613700000004', 'x'), 300);
	check('swallow: no answer', r === 'timeout');
	await ctl.cmd({ cmd: 'swallow', on: false });

	// --- id formats and dlr_id_mismatch
	await ctl.cmd({ cmd: 'accept', id_format: 'dec' });
	r = await submit(e1, '8613700000005', 'x', { registered_delivery: 0 });
	check('id format dec', /^\d+$/.test(r.message_id), r.message_id);
	await ctl.cmd({ cmd: 'accept', id_format: 'hex', id_zeros: true });
	r = await submit(e1, '8613700000005', 'x', { registered_delivery: 0 });
	check('id format hex with leading zeros', /^0[0-9A-F]{7}$/.test(r.message_id), r.message_id);
	await ctl.cmd({ cmd: 'accept', id_format: 'hex', id_zeros: false });
	await ctl.cmd({ cmd: 'receipts', mode: 'dlr_id_mismatch', delay: 10 });
	e1.delivered = [];
	r = await submit(e1, '8613700000006', 'mismatch');
	let d = await waitFor(() => e1.delivered[0]);
	const dec = BigInt('0x' + r.message_id).toString(10);
	check('dlr_id_mismatch: hex in the response, decimal in the receipt',
		d && cstr(d.receipted_message_id) === dec && smText(d).startsWith('id:' + dec + ' '), [r.message_id, d && smText(d)]);
	await ctl.cmd({ cmd: 'receipts', mode: 'normal', rules: [{ prefix: '86135', stat: 'UNDELIV', err: 11 }] });
	e1.delivered = [];
	await submit(e1, '8613500000007', 'rule');
	d = await waitFor(() => e1.delivered[0]);
	check('receipt rule by destination prefix: UNDELIV err:011, message_state 5, network_error_code',
		d && / stat:UNDELIV err:011 /.test(smText(d)) && d.message_state === 5 && d.network_error_code && d.network_error_code.toString('hex') === '03000b',
		d && smText(d));
	await ctl.cmd({ cmd: 'receipts', rules: [], id_in: 'text' });
	e1.delivered = [];
	await submit(e1, '8613700000008', 'textonly');
	d = await waitFor(() => e1.delivered[0]);
	check('receipt with the id in the text only (no TLVs)', d && d.receipted_message_id === undefined && /^id:/.test(smText(d)), d && smText(d));
	await ctl.cmd({ cmd: 'receipts', id_in: 'both', on: false });
	e1.delivered = [];
	await submit(e1, '8613700000009', 'none');
	await sleep(150);
	check('receipts off: none sent', e1.delivered.length === 0, e1.delivered.length);
	await ctl.cmd({ cmd: 'receipts', on: true });
	r = await ctl.cmd({ cmd: 'receipt', id: 'nonexistent' });
	d = await waitFor(() => e1.delivered[0]);
	check('receipt for an unknown id on command', r.ok && d && cstr(d.receipted_message_id) === 'nonexistent' && smText(d).startsWith('id:nonexistent '), r);

	// --- MO
	e1.delivered = [];
	r = await ctl.cmd({ cmd: 'mo', from: '+8613800000001', to: '1069', text: 'TD' });
	d = await waitFor(() => e1.delivered[0]);
	check('MO "TD": deliver_sm esm_class 0, data_coding 0, source ton 1',
		r.ok && d && d.esm_class === 0 && d.data_coding === 0 && smText(d) === 'TD' && d.source_addr === '8613800000001' && d.source_addr_ton === 1 && d.destination_addr === '1069', [r, d && smText(d)]);
	e1.delivered = [];
	await ctl.cmd({ cmd: 'mo', from: '+8613800000001', to: '1069', text: '退订' });
	d = await waitFor(() => e1.delivered[0]);
	check('MO "退订": data_coding 8, UCS-2', d && d.data_coding === 8 && d.short_message.toString('hex') === '90008ba2', d && d.short_message);
	e1.delivered = [];
	r = await ctl.cmd({ cmd: 'mo', from: '+8613800000001', to: '1069', text: 'abcdefghi', parts: 3, concat: 'udh' });
	d = await waitFor(() => e1.delivered.length >= 3 && e1.delivered);
	check('concatenated MO by UDH: 3 parts, esm_class 0x40, 05 00 03 ref 03 0i',
		r.ok && d && d.every((p, i) => p.esm_class === 0x40 && p.short_message.slice(0, 6).equals(Buffer.from([5, 0, 3, p.short_message[3], 3, i + 1]))) &&
		d.map(p => p.short_message.slice(6).toString()).join('') === 'abcdefghi', d && d.map(p => p.short_message.toString('hex')));
	e1.delivered = [];
	r = await ctl.cmd({ cmd: 'mo', from: '+8613800000001', to: '1069', text: 'abcdef', parts: 2, concat: 'sar' });
	d = await waitFor(() => e1.delivered.length >= 2 && e1.delivered);
	check('concatenated MO by SAR TLVs: 2 parts',
		d && d.every((p, i) => p.esm_class === 0 && p.sar_total_segments === 2 && p.sar_segment_seqnum === i + 1 && p.sar_msg_ref_num === d[0].sar_msg_ref_num),
		d && d.map(p => [p.sar_msg_ref_num, p.sar_total_segments, p.sar_segment_seqnum]));

	// --- transmitter + receiver pair: receipts and MO go to the receiver
	e1.delivered = [];
	const tx = await esme(A.port), rx1 = await esme(A.port), rx2 = await esme(A.port);
	await call(tx, 'bind_transmitter', { system_id: 'pair', password: 'secret' });
	await call(rx1, 'bind_receiver', { system_id: 'pair', password: 'secret' });
	await call(rx2, 'bind_receiver', { system_id: 'pair', password: 'secret' });
	const pr = await Promise.all([0, 1, 2, 3].map(i => submit(tx, '861370000001' + i, 'pair ' + i)));
	const got = await waitFor(() => rx1.delivered.length + rx2.delivered.length >= 4);
	check('TX+RX pair: 4 receipts go to the receivers, round-robin, none to the transmitter',
		got && rx1.delivered.length === 2 && rx2.delivered.length === 2 && tx.delivered.length === 0 && e1.delivered.length === 0 &&
		pr.every(x => x.command_status === 0), [rx1.delivered.length, rx2.delivered.length, tx.delivered.length, e1.delivered.length]);
	r = await call(rx1, 'submit_sm', { destination_addr: '8613700000000', short_message: Buffer.from('x') });
	check('submit on a receiver bind: 0x04 ESME_RINVBNDSTS', r.command_status === 0x04, r.command_status);

	// --- enquire_link
	r = await withTimeout(call(e1, 'enquire_link'), 1000);
	check('enquire_link answered', r !== 'timeout' && r.command === 'enquire_link_resp');
	await ctl.cmd({ cmd: 'enquire_link_resp', on: false });
	r = await withTimeout(call(e1, 'enquire_link'), 300);
	check('enquire_link_resp off: no answer', r === 'timeout');
	await ctl.cmd({ cmd: 'enquire_link_resp', on: true });
	let seen = 0;
	e1.on('enquire_link', pdu => { seen++; e1.send(pdu.response()); });
	await ctl.cmd({ cmd: 'enquire_link', every: 0.1 });
	await sleep(350);
	await ctl.cmd({ cmd: 'enquire_link', every: 0 });
	check('SMSC sends its own enquire_link periodically', seen >= 2, seen);

	// --- drops
	await ctl.cmd({ cmd: 'drop', after: 2 });
	const a1 = await submit(e1, '8613700000011', 'x', { registered_delivery: 0 });
	const a2 = await submit(e1, '8613700000012', 'x', { registered_delivery: 0 });
	await withTimeout(e1.closedP, 1000);
	check('drop after 2 submits: both answered, then the connection closed', a1.command_status === 0 && a2.command_status === 0 && e1.closed, [a1.command_status, a2.command_status, e1.closed]);
	r = await ctl.cmd({ cmd: 'drop' });
	await withTimeout(Promise.all([tx.closedP, rx1.closedP, rx2.closedP]), 1000);
	check('drop now: all connections closed', r.dropped === 3 && tx.closed && rx1.closed && rx2.closed, r);
	st = await ctl.cmd({ cmd: 'stats' });
	check('stats after the drops: no connection open', st.connections === 0 && st.bound.transceiver === 0, st);

	// --- refuse binds via control; then MO with no receiver
	await ctl.cmd({ cmd: 'bind', refuse: true, status: 0x0D });
	const e2 = await esme(A.port);
	r = await call(e2, 'bind_transceiver', { system_id: 'smsr', password: 'secret' });
	check('binds refused via control with the given status', r.command_status === 0x0D, r.command_status);
	r = await ctl.cmd({ cmd: 'mo', from: '+8613800000001', to: '1069', text: 'TD' });
	check('MO with no receiver bind answers ok:false', r.ok === false && /no receiver/.test(r.error), r);
	r = await ctl.cmd({ cmd: 'reset', all: true });
	st = await ctl.cmd({ cmd: 'stats' });
	check('reset zeroes the counters', r.ok && st.submits === 0 && st.binds === 0, st);

	// --- throughput: 4 binds, pipelined raw submits
	const N = 40000, BINDS = 4;
	const bound = [];
	for (let i = 0; i < BINDS; i++) {
		const e = await esme(A.port);
		r = await call(e, 'bind_transceiver', { system_id: 'load', password: 'secret' });
		bound.push(e);
	}
	const tmpl = new smpp.PDU('submit_sm', { source_addr: 'SMSR', destination_addr: '8613700000000', data_coding: 0, short_message: Buffer.from('load test message') }).toBuffer();
	t0 = Date.now();
	const per = N / BINDS;
	await Promise.all(bound.map((e, bi) => new Promise(resolve => {
		let answered = 0, okc = 0, pendingBuf = Buffer.alloc(0);
		e.socket.removeAllListeners('readable');
		e.socket.on('data', chunk => {
			pendingBuf = pendingBuf.length ? Buffer.concat([pendingBuf, chunk]) : chunk;
			let off = 0;
			while (pendingBuf.length - off >= 16) {
				const len = pendingBuf.readUInt32BE(off);
				if (pendingBuf.length - off < len) break;
				if (pendingBuf.readUInt32BE(off + 4) === 0x80000004) { answered++; if (pendingBuf.readUInt32BE(off + 8) === 0) okc++; }
				off += len;
			}
			pendingBuf = pendingBuf.slice(off);
			if (answered >= per) resolve(okc);
		});
		e.socket.resume();
		const big = Buffer.alloc(tmpl.length * per);
		for (let i = 0; i < per; i++) { tmpl.copy(big, i * tmpl.length); big.writeUInt32BE(1000 + i, i * tmpl.length + 12); }
		e.socket.write(big);
	})));
	const secs = (Date.now() - t0) / 1000;
	st = await ctl.cmd({ cmd: 'stats' });
	check('throughput: ' + N + ' submits on ' + BINDS + ' binds all answered (' + Math.round(N / secs) + '/s)',
		st.submits === N && st.answered['0'] === N + BINDS, st);

	// --- clean exit on SIGTERM
	A.proc.kill('SIGTERM');
	let ex = await withTimeout(A.exited, 3000);
	check('exits 0 on SIGTERM', ex !== 'timeout' && ex.code === 0, ex);

	// --- a second SMSC: system_id check, id format dec by flag, exit on stdin EOF
	const B = await startSmsc(['--system-id', 'smsr', '--password', 'pw', '--id-format', 'dec', '--id-zeros', '--receipt-delay', '5-20'], 'b');
	const f1 = await esme(B.port);
	r = await call(f1, 'bind_transceiver', { system_id: 'other', password: 'pw' });
	check('--system-id: another system_id refused with 0x0F', r.command_status === 0x0F, r.command_status);
	const f2 = await esme(B.port);
	r = await call(f2, 'bind_transceiver', { system_id: 'smsr', password: 'pw' });
	r = await submit(f2, '8613700000000', 'x');
	check('--id-format dec --id-zeros: "0000000001"', r.message_id === '0000000001', r.message_id);
	B.proc.stdin.end();
	ex = await withTimeout(B.exited, 3000);
	check('exits 0 when stdin closes (--exit-on-stdin-eof)', ex !== 'timeout' && ex.code === 0, ex);

	fs.rmSync(dir, { recursive: true, force: true });
}

main().catch(e => { failed++; console.log('FAIL - selftest aborted: ' + (e.stack || e)); })
	.then(() => {
		console.log(passed + ' passed, ' + failed + ' failed');
		process.exit(failed ? 1 : 0);
	});
