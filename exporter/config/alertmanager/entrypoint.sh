#!/bin/sh
# entrypoint.sh starts Alertmanager in its container from alertmanager.yml with every ${NAME} outside comment
# lines replaced by that environment variable's value (Alertmanager reads no environment itself). The result
# lives in /tmp only.
# Arguments are passed on to Alertmanager. The Docker-free stack does the same substitution in TypeScript.
set -eu
awk '/^[ \t]*#/ { print; next }
{
  out = ""
  while (match($0, /\$\{[A-Za-z_][A-Za-z0-9_]*\}/)) {
    out = out substr($0, 1, RSTART - 1) ENVIRON[substr($0, RSTART + 2, RLENGTH - 3)]
    $0 = substr($0, RSTART + RLENGTH)
  }
  print out $0
}' /etc/alertmanager/alertmanager.yml > /tmp/alertmanager.yml
exec /bin/alertmanager --config.file=/tmp/alertmanager.yml "$@"
