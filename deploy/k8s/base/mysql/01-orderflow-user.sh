#!/bin/bash
# Runs once, on an empty data directory (the MariaDB image's /docker-entrypoint-initdb.d), and creates the
# user the services connect as. The services create their own databases (orderflow_orders_N,
# orderflow_read_N, orderflow_inventory) and migrate them at start, so the user may create orderflow_*.
# Kubernetes mounts it from the mysql-initdb ConfigMap; compose mounts this very file (deploy/compose.yaml).
if [ -z "${ORDERFLOW_DB_PASSWORD:-}" ]; then
  echo "01-orderflow-user.sh: ORDERFLOW_DB_PASSWORD is not set" >&2
  exit 1
fi
mariadb --protocol=socket --user=root --password="${MARIADB_ROOT_PASSWORD}" <<SQL
CREATE USER IF NOT EXISTS 'orderflow'@'%' IDENTIFIED BY '${ORDERFLOW_DB_PASSWORD//\'/\'\'}';
GRANT ALL PRIVILEGES ON \`orderflow\_%\`.* TO 'orderflow'@'%';
SQL
