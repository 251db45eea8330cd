# The web image: gunicorn serving shopsite; the same image runs the event-log worker and,
# with cron and the MongoDB Database Tools, the hourly backup service.

# mongodump/mongorestore built from source exactly as scripts/services.sh builds them locally
# (scripts/mongo-tools: the version pinned by its go.mod, MONGO_TOOLS_VERSION as in services.sh),
# static (CGO_ENABLED=0): MongoDB's packaged tools need Kerberos libraries the slim image lacks.
FROM golang:1.24-bookworm AS mongotools
ARG MONGO_TOOLS_VERSION=100.10.0
WORKDIR /src
COPY scripts/mongo-tools/ ./
RUN bash build.sh "$MONGO_TOOLS_VERSION" /out mongodump mongorestore \
    && /out/mongodump --version | grep -q "$MONGO_TOOLS_VERSION"

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends cron curl \
    && rm -rf /var/lib/apt/lists/*
COPY --from=mongotools /out/mongodump /out/mongorestore /usr/bin/
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v 0
EXPOSE 7000
CMD ["gunicorn", "shopsite.wsgi:application", "--bind", "0.0.0.0:7000", \
     "--workers", "3", "--threads", "4", "--timeout", "60", "--access-logfile", "-", \
     "--worker-class", "shopsite.gunicorn_worker.JSONErrorThreadWorker"]
