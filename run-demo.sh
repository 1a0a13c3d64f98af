#!/usr/bin/env bash
# Sets up and runs the product on its embedded default (SQLite, a broker on a SQLite file):
# virtual environment, install, migrate, demo data on the first run, then the web UI at
# http://127.0.0.1:8000 together with a Celery worker and beat. Ctrl-C stops all of them.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
PORT=${PORT:-8000}
DEMO_VEHICLES=${DEMO_VEHICLES:-3000}
# The demo is the development profile: DEBUG on (a dev secret key, plain HTTP, static files served
# as they are). DEBUG is off by default so that a deployment gets the production profile.
export DEBUG=${DEBUG:-1}

if [ ! -x .venv/bin/python ]; then "$PYTHON" -m venv .venv; fi
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
  touch "$stamp"
fi
VAR_DIR=${CLM_VAR_DIR:-var}
mkdir -p "$VAR_DIR"
.venv/bin/python manage.py migrate --noinput -v0
if ! .venv/bin/python manage.py shell -c "from customers.models import Customer; raise SystemExit(0 if Customer.objects.exists() else 1)"; then
  echo "First run: generating demo data ($DEMO_VEHICLES vehicles), forecasts, plans and today's queues..."
  .venv/bin/python manage.py seed_demo --vehicles "$DEMO_VEHICLES"
  .venv/bin/python manage.py replan --all
  .venv/bin/python manage.py build_queues
fi

.venv/bin/celery -A clm worker --beat -Q celery,sweeps --loglevel=INFO --concurrency=2 --without-gossip --without-mingle \
  --schedule "$VAR_DIR/celerybeat-schedule" > "$VAR_DIR/worker.log" 2>&1 &
worker=$!
# Celery's pool can hang in its exit handlers once its children are gone (billiard's
# _help_stuff_finish): give the worker ten seconds to stop, then stop it for good.
stop_worker() {
  kill "$worker" 2>/dev/null || return 0
  for _ in $(seq 1 20); do kill -0 "$worker" 2>/dev/null || return 0; sleep 0.5; done
  kill -9 "$worker" 2>/dev/null; wait "$worker" 2>/dev/null || true
}
trap stop_worker EXIT INT TERM
echo "Worker and beat started (log: $VAR_DIR/worker.log)."
echo "Open http://127.0.0.1:$PORT/ . Demo logins, password 'demo': agent1, agent2, supervisor, manager, service1, sales1, admin"
.venv/bin/python manage.py runserver "127.0.0.1:$PORT" --noreload
