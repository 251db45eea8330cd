# The web image: gunicorn serving shopsite; the same image runs the event-log worker and,
# with cron and the MongoDB Database Tools, the hourly backup service.
FROM mongo:7.0 AS mongotools

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends cron curl \
    && rm -rf /var/lib/apt/lists/*
COPY --from=mongotools /usr/bin/mongodump /usr/bin/mongorestore /usr/bin/
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v 0
EXPOSE 7000
CMD ["gunicorn", "shopsite.wsgi:application", "--bind", "0.0.0.0:7000", \
     "--workers", "3", "--threads", "4", "--timeout", "60", "--access-logfile", "-", \
     "--worker-class", "shopsite.gunicorn_worker.JSONErrorThreadWorker"]
