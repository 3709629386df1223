#!/usr/bin/env bash
# Gearman from SQL, end to end: our gearmand with two `gearman -w` workers, a throwaway MariaDB
# with libgearman_mysql_udf.so and a throwaway PostgreSQL with the gearman extension. Each
# database runs gman_do('reverse', 'hello') and the trigger example: every new row of `orders`
# queues a background `audit` job with its id. Servers listen on 127.0.0.1 or on sockets in a
# temporary directory only, and are stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/install-deps.sh
# The debug build (what the tests built already); EXAMPLE_PROFILE=release for the optimized one.
profile=${EXAMPLE_PROFILE:-debug}
cargo build --profile "$([ "$profile" = debug ] && echo dev || echo "$profile")" --quiet \
  -p gearman-server -p gearman-cli -p gearman-mysql-udf -p gearman-pg
source scripts/gearmand.sh
bin=$PWD/target/$profile
pg_bin=/usr/lib/postgresql/15/bin
dir=$(mktemp -d)
chmod 755 "$dir"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

start_gearmand "$bin/gearmand" "$dir/gearmand.log"
pids+=("$gearmand_pid")
port=$gearmand_port
echo "== our gearmand on 127.0.0.1:$port; workers: gearman -w -f reverse -- rev, and audit"
"$bin/gearman" -h 127.0.0.1 -p "$port" -w -f reverse -- rev &
pids+=($!)
"$bin/gearman" -h 127.0.0.1 -p "$port" -w -f audit -- sh -c "cat >> '$dir/audit.log'; echo >> '$dir/audit.log'" &
pids+=($!)

echo "== MariaDB: CREATE FUNCTION ... SONAME 'libgearman_mysql_udf.so'"
mkdir -p "$dir/mariadb/plugin"
cp "$bin/libgearman_mysql_udf.so" "$dir/mariadb/plugin/"
mariadb-install-db --no-defaults --datadir="$dir/mariadb/data" --user=root \
  --auth-root-authentication-method=socket --skip-test-db >/dev/null
/usr/sbin/mariadbd --no-defaults --datadir="$dir/mariadb/data" --socket="$dir/mariadb/sock" \
  --pid-file="$dir/mariadb/pid" --log-error="$dir/mariadb/error.log" --skip-networking \
  --plugin-dir="$dir/mariadb/plugin" --user=root 2>/dev/null &
pids+=($!)
mariadb_sql() { mariadb --no-defaults --socket="$dir/mariadb/sock" -u root -N -B -e "$1"; }
for _ in $(seq 200); do mariadb_sql "SELECT 1" >/dev/null 2>&1 && break; sleep 0.05; done
mariadb_sql "
  CREATE FUNCTION gman_servers_set RETURNS STRING SONAME 'libgearman_mysql_udf.so';
  CREATE FUNCTION gman_do RETURNS STRING SONAME 'libgearman_mysql_udf.so';
  CREATE FUNCTION gman_do_background RETURNS STRING SONAME 'libgearman_mysql_udf.so';
  CREATE DATABASE shop;
  CREATE TABLE shop.orders (id INT AUTO_INCREMENT PRIMARY KEY, item TEXT);
  CREATE TRIGGER shop.orders_audit AFTER INSERT ON shop.orders FOR EACH ROW
    SET @handle = gman_do_background('audit', CONCAT('mariadb order ', NEW.id));"
# The server list is the database server's, for every connection.
mariadb_sql "SELECT gman_servers_set('127.0.0.1:$port')" >/dev/null
echo "   gman_do('reverse', 'hello') = $(mariadb_sql "SELECT gman_do('reverse', 'hello')")"
mariadb_sql "INSERT INTO shop.orders (item) VALUES ('tea'), ('milk'), ('bread')"

echo "== PostgreSQL: the gearman extension (gearman--1.0.sql, with the module's path in it)"
env -u PROFILE make -s -C "$dir" -f "$PWD/bindings/postgres/Makefile" VPATH="$PWD/bindings/postgres" \
  PG_CONFIG="$pg_bin/pg_config" RUST_LIB="$bin/libgearman_pg.a"
mkdir -p "$dir/pg"
chown postgres:postgres "$dir/pg"
setpriv --reuid=postgres --regid=postgres --init-groups -- "$pg_bin/initdb" -D "$dir/pg/data" \
  -A trust -U gearman -E UTF8 --no-sync >/dev/null
setpriv --reuid=postgres --regid=postgres --init-groups -- "$pg_bin/postgres" -D "$dir/pg/data" \
  -k "$dir/pg" -c listen_addresses= >"$dir/pg/log" 2>&1 &
pids+=($!)
psql_sql() { "$pg_bin/psql" -h "$dir/pg" -U gearman -d postgres -At -v ON_ERROR_STOP=1 -c "$1"; }
for _ in $(seq 200); do psql_sql "SELECT 1" >/dev/null 2>&1 && break; sleep 0.05; done
psql_sql "$(grep -v '^\\echo' bindings/postgres/gearman--1.0.sql | sed "s|MODULE_PATHNAME|$dir/gearman.so|")" >/dev/null
psql_sql "ALTER DATABASE postgres SET gearman.default_servers = '127.0.0.1:$port'" >/dev/null
echo "   gman_do('reverse', 'hello') = $(psql_sql "SELECT gman_do('reverse', 'hello')")"
psql_sql "
  CREATE TABLE orders (id serial PRIMARY KEY, item text);
  CREATE FUNCTION orders_audit() RETURNS trigger LANGUAGE plpgsql AS \$\$
    BEGIN PERFORM gman_do_background('audit', 'postgres order ' || NEW.id); RETURN NEW; END \$\$;
  CREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION orders_audit();
  INSERT INTO orders (item) VALUES ('tea'), ('milk'), ('bread');" >/dev/null

echo "== what the audit worker got from the two triggers"
for _ in $(seq 200); do [ "$(grep -c order "$dir/audit.log" 2>/dev/null)" -ge 6 ] && break; sleep 0.05; done
sort "$dir/audit.log" | sed 's/^/   /'
[ "$(grep -c order "$dir/audit.log")" -eq 6 ]
