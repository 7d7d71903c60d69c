# The Unicat web app and CLI, as docker-compose.yml runs them: the project installed (not editable) into
# python:3.11-slim, run as an unprivileged user.
FROM python:3.11-slim

# Logs reach `docker compose logs` at once; no .pyc files written at run time.
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
# Only what the package is built from (pyproject.toml names README.md as its readme), so editing the
# tests or the benchmarks does not invalidate the install layer.
COPY pyproject.toml README.md ./
COPY unicat unicat
COPY harvester harvester
COPY indexer indexer
COPY search_app search_app
COPY mappings mappings
RUN pip install --no-cache-dir . \
    && useradd --system --create-home --home-dir /home/unicat unicat

USER unicat
WORKDIR /home/unicat
EXPOSE 8080
CMD ["unicat", "serve", "--host", "0.0.0.0", "--port", "8080"]
