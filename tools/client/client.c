/* SPDX-License-Identifier: MIT */
/*
 * The smsrd client's calls (include/smsr/client.h): connection set-up and
 * auth, call_id assignment, the FIFO of responses kept while
 * smsr_client_call() waits for its own, and the submit helper.
 *
 * Invariant: a response is handed out exactly once, and responses are
 * handed out in the order they arrived, except that smsr_client_call()
 * takes its own answer out of turn.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_int.h"
#include "wire_frame.h"

/* protobuf-c's string fields are char *; the library never writes to them. */
static char *unconst(const char *s)
{
	return (char *)(uintptr_t)s;
}

/* ---------------------------------------------------------------- FIFO */

static int kept_push(struct smsr_client *c, Smsr__V1__Response *r)
{
	Smsr__V1__Response **v;
	size_t cap;

	if (c->nkept == c->capkept) {
		cap = c->capkept ? c->capkept * 2 : 16;
		v = malloc(cap * sizeof(*v));
		if (!v)
			return -SMSR_ENOMEM;
		for (size_t i = 0; i < c->nkept; i++)
			v[i] = c->kept[(c->head + i) % c->capkept];
		free(c->kept);
		c->kept = v;
		c->capkept = cap;
		c->head = 0;
	}
	c->kept[(c->head + c->nkept) % c->capkept] = r;
	c->nkept++;
	return 0;
}

static Smsr__V1__Response *kept_pop(struct smsr_client *c)
{
	Smsr__V1__Response *r;

	if (!c->nkept)
		return NULL;
	r = c->kept[c->head];
	c->head = (c->head + 1) % c->capkept;
	c->nkept--;
	return r;
}

/* ---------------------------------------------------------------- connection */

static int authenticate(struct smsr_client *c, const char *token, int timeout_ms)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__AuthRequest auth;
	Smsr__V1__Response *resp;
	int rc;

	smsr__v1__auth_request__init(&auth);
	auth.token = unconst(token);
	req.body_case = SMSR__V1__REQUEST__BODY_AUTH;
	req.auth = &auth;
	rc = smsr_client_call(c, &req, &resp, timeout_ms);
	if (rc < 0)
		return rc;
	rc = smsr_client_error(resp);
	if (rc == 0 && resp->body_case != SMSR__V1__RESPONSE__BODY_AUTH)
		rc = -SMSR_EBADPROTO;
	smsr_client_free(resp);
	return rc;
}

int smsr_client_connect(struct smsr_client **out, const char *addr,
			const struct smsr_client_opts *o)
{
	int timeout_ms = o && o->timeout_ms ? o->timeout_ms : 5000;
	struct smsr_client *c;
	int rc;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -SMSR_ENOMEM;
	c->max_frame = o && o->max_frame ? o->max_frame : SMSR_FRAME_MAX_DFLT;
	c->adopt_frame = !(o && o->max_frame);
	c->next_id = 1;
	c->fd = smsr__cl_connect(addr ? addr : SMSR_CLIENT_DEFAULT_ADDR, timeout_ms);
	if (c->fd < 0) {
		rc = c->fd;
		goto err_free;
	}
	if (o && o->token) {
		rc = authenticate(c, o->token, timeout_ms);
		if (rc < 0)
			goto err_close;
	}
	*out = c;
	return 0;

err_close:
	smsr_client_close(c);
	return rc;
err_free:
	free(c);
	return rc;
}

void smsr_client_close(struct smsr_client *c)
{
	Smsr__V1__Response *r;

	if (!c)
		return;
	while ((r = kept_pop(c)))
		smsr_client_free(r);
	if (c->fd >= 0)
		close(c->fd);
	free(c->kept);
	free(c->out.p);
	free(c->in.p);
	free(c);
}

int smsr_client_fd(const struct smsr_client *c)
{
	return c->fd;
}

/* ---------------------------------------------------------------- calls */

int smsr_client_send(struct smsr_client *c, Smsr__V1__Request *req, uint64_t *call_id)
{
	uint64_t orig = req->call_id, id = orig;
	int rc;

	if (c->err)
		return c->err;
	if (!id) {
		id = c->next_id++;
		if (!c->next_id)
			c->next_id = 1;
	}
	req->call_id = id;
	rc = smsr__cl_queue(c, req);
	req->call_id = orig; /* the caller may send the same @req again */
	if (call_id && rc == 0)
		*call_id = id;
	return rc;
}

int smsr_client_flush(struct smsr_client *c)
{
	return smsr__cl_flush(c, INT64_MAX);
}

int smsr_client_recv(struct smsr_client *c, Smsr__V1__Response **out, int timeout_ms)
{
	Smsr__V1__Response *r = kept_pop(c);

	if (r) {
		*out = r;
		return 0;
	}
	return smsr__cl_read_frame(c, out, smsr__cl_deadline(timeout_ms));
}

void smsr_client_free(Smsr__V1__Response *resp)
{
	if (resp)
		smsr__v1__response__free_unpacked(resp, NULL);
}

/*
 * A connection-level message (call_id 0) that means our call will never be
 * answered: the server lost framing (and closes) or could not decode a
 * request of ours. Others (shutting_down) are kept for the caller.
 */
static int fatal_conn_error(const Smsr__V1__Response *r)
{
	uint32_t code = r->error ? r->error->code : 0;

	if (r->call_id != 0)
		return 0;
	if (code == SMSR_EFRAMETOOBIG || code == SMSR_EBADFRAME || code == SMSR_EBADPROTO)
		return -(int)code;
	return 0;
}

int smsr_client_call(struct smsr_client *c, Smsr__V1__Request *req, Smsr__V1__Response **out,
		     int timeout_ms)
{
	int64_t deadline = smsr__cl_deadline(timeout_ms);
	Smsr__V1__Response *r;
	uint64_t id = 0;
	int rc;

	rc = smsr_client_send(c, req, &id);
	if (rc < 0)
		return rc;
	rc = smsr__cl_flush(c, deadline);
	if (rc < 0)
		return rc;
	for (;;) {
		rc = smsr__cl_read_frame(c, &r, deadline);
		if (rc < 0)
			return rc;
		if (r->call_id == id) {
			*out = r;
			return 0;
		}
		rc = fatal_conn_error(r);
		if (rc == 0)
			rc = kept_push(c, r);
		if (rc < 0) {
			smsr_client_free(r);
			return rc;
		}
	}
}

int smsr_client_error(const Smsr__V1__Response *resp)
{
	if (!resp->error)
		return 0;
	if (resp->error->code == 0 || resp->error->code > INT32_MAX)
		return -SMSR_EINTERNAL;
	return -(int)resp->error->code;
}

/* ---------------------------------------------------------------- submit */

void smsr_client_msg_to_pb(Smsr__V1__Message *pb, const struct smsr_msg *m)
{
	smsr__v1__message__init(pb);
	pb->recipient = m->recipient ? unconst(m->recipient) : "";
	pb->sender = m->sender ? unconst(m->sender) : "";
	pb->text = m->text ? unconst(m->text) : "";
	pb->client_ref = m->client_ref ? unconst(m->client_ref) : "";
	pb->tags = m->tags ? unconst(m->tags) : "";
	pb->cls = (Smsr__V1__MessageClass)m->cls;
	pb->validity_ms = m->validity_ms;
}

static void result_from_pb(struct smsr_result *res, const Smsr__V1__SubmitResult *r)
{
	memset(res, 0, sizeof(*res));
	res->channel = -1;	    /* the wire names the channel, not its index */
	res->cls = (uint8_t)r->cls; /* also on a rejection, once classified */
	if (r->status) {
		res->status = r->status > INT32_MAX ? -SMSR_EINTERNAL : -(int)r->status;
		return;
	}
	res->id = r->id;
	res->carrier = (uint8_t)r->carrier;
	res->segments = r->segments > UINT8_MAX ? UINT8_MAX : (uint8_t)r->segments;
}

/* Map the answer of a submit of @n messages into @res. */
static int submit_results(const Smsr__V1__Response *resp, size_t n, struct smsr_result *res)
{
	const Smsr__V1__SubmitResponse *sr = resp->submit;
	int accepted = 0, rc = smsr_client_error(resp);

	if (rc < 0)
		return rc;
	if (resp->body_case != SMSR__V1__RESPONSE__BODY_SUBMIT || !sr || sr->n_results != n)
		return -SMSR_EBADPROTO;
	for (size_t i = 0; i < n; i++) {
		result_from_pb(&res[i], sr->results[i]);
		accepted += res[i].status == 0;
	}
	return accepted;
}

int smsr_client_submit(struct smsr_client *c, const struct smsr_msg *msgs, size_t n,
		       struct smsr_result *res, int timeout_ms)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__SubmitRequest sub = SMSR__V1__SUBMIT_REQUEST__INIT;
	Smsr__V1__Response *resp;
	Smsr__V1__Message *pbm, **pbp;
	size_t textbytes = 0;
	char *texts, *t;
	int rc = -SMSR_ENOMEM;

	if (n == 0 || n > INT32_MAX)
		return -SMSR_EINVAL;
	for (size_t i = 0; i < n; i++)
		textbytes += msgs[i].text_len + 1;
	pbm = calloc(n, sizeof(*pbm));
	pbp = calloc(n, sizeof(*pbp));
	texts = malloc(textbytes);
	if (!pbm || !pbp || !texts)
		goto out;
	/* smsr_msg texts need not be NUL-terminated; protobuf-c's must be. */
	t = texts;
	for (size_t i = 0; i < n; i++) {
		smsr_client_msg_to_pb(&pbm[i], &msgs[i]);
		if (msgs[i].text_len)
			memcpy(t, msgs[i].text, msgs[i].text_len);
		t[msgs[i].text_len] = '\0';
		pbm[i].text = t;
		t += msgs[i].text_len + 1;
		pbp[i] = &pbm[i];
	}
	sub.n_messages = n;
	sub.messages = pbp;
	req.body_case = SMSR__V1__REQUEST__BODY_SUBMIT;
	req.submit = &sub;
	rc = smsr_client_call(c, &req, &resp, timeout_ms);
	if (rc == 0) {
		rc = submit_results(resp, n, res);
		smsr_client_free(resp);
	}
out:
	free(texts);
	free(pbp);
	free(pbm);
	return rc;
}
