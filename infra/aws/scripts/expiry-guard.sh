#!/bin/sh
# The cost guard of an infra/aws host, run at every boot (asgi-wsgi-bench-guard.service)
# and once by the first-boot bootstrap. It reads the instance's own `expiry` tag (IMDSv2,
# instance_metadata_tags = "enabled"), records it on disk, and arms a persistent systemd
# timer at that absolute time; if the time has already passed it powers off now. With
# instance_initiated_shutdown_behavior = "terminate", power-off is termination. A reboot
# or a stop/start keeps the timer (it lives in /etc) and runs this again.
#
# Expiry sources, first that answers: the tag; the value recorded at an earlier boot;
# on the first boot without either, now + BENCH_GUARD_TTL_MINUTES; otherwise a fallback
# of BENCH_GUARD_FALLBACK_MINUTES (fail closed: a host without a known expiry never runs
# unguarded).
#
# Every outside effect can be redirected, so tests run this for real in a namespace host
# with a fake IMDS and a fake clock: BENCH_GUARD_IMDS, BENCH_GUARD_STATE,
# BENCH_GUARD_UNIT_DIR, BENCH_GUARD_SYSTEMCTL, BENCH_GUARD_POWEROFF, BENCH_GUARD_NOW.
set -eu

imds=${BENCH_GUARD_IMDS:-http://169.254.169.254}
state=${BENCH_GUARD_STATE:-/var/lib/asgi-wsgi-bench}
unit_dir=${BENCH_GUARD_UNIT_DIR:-/etc/systemd/system}
systemctl=${BENCH_GUARD_SYSTEMCTL:-systemctl}
poweroff=${BENCH_GUARD_POWEROFF:-systemctl poweroff}
now=${BENCH_GUARD_NOW:-$(date -u +%s)}
ttl_minutes=${BENCH_GUARD_TTL_MINUTES:-}
fallback_minutes=${BENCH_GUARD_FALLBACK_MINUTES:-60}
timer=asgi-wsgi-bench-expiry.timer

say() { echo "asgi-wsgi-bench guard: $*"; }

# The expiry tag through IMDSv2 (a token first); empty when IMDS or the tag is missing.
imds_expiry() {
  token=$(curl -sf -m 2 --retry 3 --retry-connrefused -X PUT \
    -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$imds/latest/api/token") || return 0
  curl -sf -m 2 --retry 3 --retry-connrefused -H "X-aws-ec2-metadata-token: $token" \
    "$imds/latest/meta-data/tags/instance/expiry" || true
}

# Seconds since the epoch of an RFC 3339 time; empty when empty or unreadable (GNU date
# reads an empty string as today's midnight, so that case never reaches it).
epoch_of() {
  case $1 in
  [0-9][0-9][0-9][0-9]-*) date -u -d "$1" +%s 2>/dev/null || true ;;
  esac
}

source=tag
expiry=$(epoch_of "$(imds_expiry)")
if [ -z "$expiry" ] && [ -s "$state/expiry" ]; then
  source="recorded at an earlier boot"
  expiry=$(epoch_of "$(cat "$state/expiry")")
fi
if [ -z "$expiry" ] && [ -n "$ttl_minutes" ]; then
  source="first boot + ${ttl_minutes} min"
  expiry=$((now + ttl_minutes * 60))
fi
if [ -z "$expiry" ]; then
  source="no expiry known: fallback of ${fallback_minutes} min"
  expiry=$((now + fallback_minutes * 60))
fi

install -d -m 0755 "$state"
stamp=$(date -u -d "@$expiry" +%Y-%m-%dT%H:%M:%SZ)
echo "$stamp" >"$state/expiry.tmp" && mv "$state/expiry.tmp" "$state/expiry"

if [ "$expiry" -le "$now" ]; then
  say "expiry $stamp ($source) has passed: powering off now (the instance terminates)"
  $poweroff
  exit 0
fi

# An absolute time, so a reboot cannot push it back; Persistent=true fires at boot a
# timer whose time passed while the machine was off.
install -d -m 0755 "$unit_dir"
cat >"$unit_dir/$timer.tmp" <<UNIT
[Unit]
Description=asgi-wsgi-bench: power off at the instance's expiry

[Timer]
OnCalendar=$(date -u -d "@$expiry" '+%Y-%m-%d %H:%M:%S') UTC
Persistent=true
AccuracySec=1s
Unit=asgi-wsgi-bench-poweroff.service

[Install]
WantedBy=timers.target
UNIT
mv "$unit_dir/$timer.tmp" "$unit_dir/$timer"
$systemctl daemon-reload
$systemctl enable "$timer"
$systemctl restart "$timer"
say "expiry $stamp ($source): power-off timer armed"
