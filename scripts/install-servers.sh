#!/usr/bin/env bash
# Installs the real servers the integration tests talk to (Debian packages). Needs root.
# The tests start and stop each server themselves, on loopback, with configs they write.
set -euo pipefail
PKGS=(g++ make python3 clamav-daemon clamdscan clamav-testfiles 7zip unrar-free spamassassin spamd spamc rspamd redis-server rbldnsd bind9-dnsutils postfix swaks sasl2-bin bind9 nftables iptables postgresql chromium openssl)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != "0" ]; then
  echo "install-servers: missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
  exit 1
fi
# Package scripts must not start daemons: the tests start their own on free loopback ports.
if [ ! -x /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
fi
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
