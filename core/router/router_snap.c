/* SPDX-License-Identifier: MIT */
/*
 * Read-mostly router state: snapshots and their epoch-based reclamation.
 *
 * Submitters read the current snapshot inside a ck_epoch section, on a
 * record leased for the call (epoch.h). A replaced snapshot is retired with ck_epoch_call() and
 * freed once no section that could see it is still open.
 */
#include <stdlib.h>

#include "router_int.h"

int smsr__snap_build(struct smsr_router *r, struct smsr__snapshot **out)
{
	struct smsr__snapshot *s = calloc(1, sizeof(*s));
	int ret = -SMSR_ENOMEM;

	if (!s)
		return -SMSR_ENOMEM;
	s->chans = calloc(r->nchans ? r->nchans : 1, sizeof(*s->chans));
	if (!s->chans)
		goto err;
	for (size_t i = 0; i < r->nchans; i++)
		s->chans[i] = &r->chans[i];
	s->nchans = r->nchans;
	s->scoring = r->cfg.scoring.enabled;
	ret = smsr__route_table_build(&s->routes, &r->cfg);
	if (ret < 0)
		goto err;
	ret = smsr__carrier_table_create(&s->carriers, r->cfg.prefixes, r->cfg.nprefixes,
					 r->cfg.ported, r->cfg.nported);
	if (ret < 0)
		goto err;
	*out = s;
	return 0;
err:
	smsr__snap_free(s);
	return ret;
}

void smsr__snap_free(struct smsr__snapshot *s)
{
	if (!s)
		return;
	smsr__route_table_destroy(s->routes);
	if (s->carriers)
		smsr__carrier_table_destroy(s->carriers);
	free(s->chans);
	free(s);
}

static void snap_retire(ck_epoch_entry_t *e)
{
	struct smsr__snapshot *s =
	    (struct smsr__snapshot *)((char *)e - offsetof(struct smsr__snapshot, epoch_entry));

	smsr__snap_free(s);
}

/* Publish @s; the previous snapshot is freed once no reader can see it.
 * Caller holds admin_lock. */
void smsr__snap_publish(struct smsr_router *r, struct smsr__snapshot *s)
{
	struct smsr__snapshot *old = atomic_exchange(&r->snap, s);
	unsigned slot;
	ck_epoch_record_t *rec;

	if (!old)
		return;
	rec = smsr__epoch_lease(&r->epoch, &slot);
	ck_epoch_call(rec, &old->epoch_entry, snap_retire);
	smsr__epoch_barrier(&r->epoch, rec);
	smsr__epoch_release(&r->epoch, slot);
}
