# syntax=docker/dockerfile:1
# Four stages: `deps` installs the pinned runtime requirements into a venv;
# `assets` compiles the SCSS with the pinned dart-sass (Node only there);
# `build` adds compilers and the dev requirements on top and is the image the
# bdg-blog-dev namespace runs; `runtime` copies only the runtime venv and the
# code into a slim image that runs as a non-root user.
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm
ARG NODE_IMAGE=node:20.19.5-bookworm-slim

FROM ${PYTHON_IMAGE} AS deps
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc pkg-config libmariadb-dev \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt

FROM ${NODE_IMAGE} AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts
COPY scripts/build_css.sh scripts/build_css.sh
COPY static/scss static/scss
RUN scripts/build_css.sh

FROM deps AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends git gettext chromium fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*
COPY requirements-dev.txt /tmp/requirements-dev.txt
RUN sed -i 's#^-r requirements.txt#-r /tmp/requirements.txt#' /tmp/requirements-dev.txt \
 && pip install -r /tmp/requirements-dev.txt
WORKDIR /app
COPY . .
COPY --from=assets /app/static/css static/css
# Translation catalogues are compiled at build (gettext is in this stage only);
# the runtime stage copies the compiled files.
RUN for po in locale/*/LC_MESSAGES/*.po; do msgfmt --check-format -o "${po%.po}.mo" "$po"; done
ENV DEBUG=true PORT=3991
EXPOSE 3991
CMD ["sh", "-c", "python manage.py migrate --noinput && exec python -m blog_site.serve -b 0.0.0.0 -p ${PORT} blog_site.asgi:application"]

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=blog_site.settings.base \
    PORT=8000
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmariadb3 mariadb-client \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
COPY --chown=app:app . .
COPY --from=build --chown=app:app /app/locale /app/locale
# The compiled stylesheets; collectstatic below hashes and compresses them.
COPY --from=assets --chown=app:app /app/static/css /app/static/css
# Static files are collected at build time with throwaway values: nothing
# here reaches a database or a secret.
RUN DEBUG=false SECRET_KEY=collectstatic-only-not-a-secret-0123456789abcdefghijklmnop \
    ALLOWED_HOSTS=build.invalid python manage.py collectstatic --noinput \
 && chown -R app:app /app/staticfiles
USER 10001:10001
EXPOSE 8000
# daphne through blog_site.serve: same options, but SIGTERM drains (finishes
# requests, closes WebSockets with 1012) instead of cutting everything.
CMD ["sh", "-c", "exec python -m blog_site.serve -b 0.0.0.0 -p ${PORT} blog_site.asgi:application"]
