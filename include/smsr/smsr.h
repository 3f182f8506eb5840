/* SPDX-License-Identifier: MIT */
/*
 * smsr: an embeddable SMS router core. Umbrella header.
 * See README.md for the overview and each header for its part of the API.
 */
#ifndef SMSR_SMSR_H
#define SMSR_SMSR_H

#include "errors.h"
#include "msg.h"
#include "config.h"
#include "channel.h"
#include "router.h"

#endif
