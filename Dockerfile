# The production image: gunicorn (web), celery worker and celery beat all run from it.
# See docker-compose.yml for the shape of a deployment.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=oms.settings \
    OMS_VAR_DIR=/app/var \
    PORT=8000

# WeasyPrint needs pango; libharfbuzz-subset0 makes font subsetting fast (4x slower labels
# without it); fonts-noto-cjk renders Chinese names and addresses on labels and PDFs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY . .
# Static files are collected into the image (whitenoise serves them with hashed names).
# The key here is only for this build step; the running containers get SECRET_KEY from the environment.
RUN DEBUG=0 SECRET_KEY=collectstatic-build-step-only python manage.py collectstatic --noinput -v 0 \
    && useradd --system --uid 10001 --home-dir /app --no-create-home oms \
    && mkdir -p /app/var/media \
    && chown -R oms:oms /app/var

USER oms
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=6s --start-period=30s --retries=3 CMD ["python", "scripts/healthcheck.py"]
CMD ["sh", "-c", "exec gunicorn oms.wsgi:application --bind 0.0.0.0:${PORT} --workers ${WEB_CONCURRENCY:-4} --timeout 60 --access-logfile -"]
