#!/usr/bin/env bash
# Starts the machine's MariaDB when it is not running (installing it when it
# is missing) and waits until it answers on 127.0.0.1:3306.
set -euo pipefail
if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
fi
ping() { mariadb-admin --protocol=tcp -h 127.0.0.1 -u root ping >/dev/null 2>&1; }
if ! ping; then
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
fi
for _ in $(seq 1 60); do
  if ping; then
    mariadb --protocol=tcp -h 127.0.0.1 -u root -e 'CREATE DATABASE IF NOT EXISTS test' >/dev/null
    echo "MariaDB is up"
    exit 0
  fi
  sleep 1
done
echo "MariaDB did not start" >&2
exit 1
