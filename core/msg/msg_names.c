/* SPDX-License-Identifier: MIT */
/*
 * Names of classes, carriers and events: the stable strings that configs,
 * logs, the CLI and the protocol share.
 */
#include <string.h>
#include <strings.h>

#include "smsr/msg.h"
#include "carrier.h"

static const char *const class_names[] = {"auto", "verification", "notice", "marketing"};
static const char *const carrier_names[] = {"unknown", "cmcc", "cucc", "ctcc", "cbn", "intl"};
static const char *const event_names[] = {"accepted",  "queued",  "submitted",
					  "delivered", "failed",  "expired",
					  "rejected",  "handoff", "channel"};

const char *smsr_class_name(enum smsr_class cls)
{
	if ((unsigned)cls > SMSR_CLASS_MARKETING)
		return "invalid";
	return class_names[cls];
}

int smsr_class_parse(const char *name)
{
	if (!name)
		return -SMSR_EBADCLASS;
	for (int i = 0; i <= SMSR_CLASS_MARKETING; i++)
		if (strcasecmp(name, class_names[i]) == 0)
			return i;
	if (strcasecmp(name, "otp") == 0)
		return SMSR_CLASS_VERIFICATION;
	return -SMSR_EBADCLASS;
}

const char *smsr_carrier_name(enum smsr_carrier c)
{
	if ((unsigned)c >= SMSR_NCARRIER)
		return "invalid";
	return carrier_names[c];
}

int smsr__carrier_parse(const char *name)
{
	static const struct {
		const char *alias;
		int carrier;
	} aliases[] = {
	    {"mobile", SMSR_CARRIER_CMCC},	  {"china_mobile", SMSR_CARRIER_CMCC},
	    {"unicom", SMSR_CARRIER_CUCC},	  {"china_unicom", SMSR_CARRIER_CUCC},
	    {"telecom", SMSR_CARRIER_CTCC},	  {"china_telecom", SMSR_CARRIER_CTCC},
	    {"broadnet", SMSR_CARRIER_CBN},	  {"china_broadnet", SMSR_CARRIER_CBN},
	    {"international", SMSR_CARRIER_INTL},
	};

	if (!name)
		return -SMSR_EINVAL;
	for (int i = 1; i < SMSR_NCARRIER; i++)
		if (strcasecmp(name, carrier_names[i]) == 0)
			return i;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcasecmp(name, aliases[i].alias) == 0)
			return aliases[i].carrier;
	return -SMSR_EINVAL;
}

const char *smsr_event_name(enum smsr_event_type t)
{
	if ((unsigned)t >= SMSR_EV_COUNT)
		return "invalid";
	return event_names[t];
}
