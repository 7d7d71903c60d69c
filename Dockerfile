# The Unicat web app and CLI, as docker-compose.yml runs them: the project installed (not editable) into
# python:3.11-slim, run as an unprivileged user.
#
# Two stages: the first has a C compiler, so that setup.py compiles the indexer's hot modules with mypyc
# (unicat/compiled.py), and builds wheels of Unicat and everything it needs; the second installs those
# wheels into a slim image that carries no compiler.
FROM python:3.11-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the package is built from (pyproject.toml names README.md as its readme), so editing the
# tests or the benchmarks does not invalidate the build layer.
COPY pyproject.toml setup.py README.md ./
COPY unicat unicat
COPY harvester harvester
COPY indexer indexer
COPY search_app search_app
COPY federated federated
COPY mappings mappings
COPY unicat_cli unicat_cli
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# Logs reach `docker compose logs` at once; no .pyc files written at run time.
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
COPY --from=build /wheels /wheels
# libyaz5: YAZ's ZOOM C library, through which live Z39.50 targets are searched (federated/zoom.py).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libyaz5 \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir --no-index --find-links /wheels unicat \
    && rm -rf /wheels \
    && useradd --system --create-home --home-dir /home/unicat unicat

USER unicat
WORKDIR /home/unicat
EXPOSE 8080
CMD ["unicat", "serve", "--host", "0.0.0.0", "--port", "8080"]
