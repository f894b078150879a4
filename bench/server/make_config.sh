#!/usr/bin/env bash
# Writes the benchmark's operator config: one site, one pool of 10,000 numbers, no cool-down
# (so released numbers serve again at once and the pool never runs dry), and no rate limit
# (wrk is one address); the connection limits are the defaults.
set -euo pipefail
numbers=$(seq -f '"+4930900%04g"' 0 9999 | paste -sd,)
cat <<JSON
{
  "sites": [{
    "config": {"site": "acme", "country": "DE", "targets": ["+49301234567"], "pools": ["ads"],
               "sources": [{"id": "ads", "static": "+49301111111", "pool": "ads", "match": {"click_ids": ["gclid"]}},
                           {"id": "direct", "static": "+49301234567", "default": true}]},
    "pools": {"ads": {"numbers": [$numbers], "cooldown_minutes": 0}}
  }],
  "limits": {"rate_per_minute": 0}
}
JSON
