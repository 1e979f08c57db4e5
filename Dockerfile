# syntax=docker/dockerfile:1
# One file, two images, as docker-compose.yml uses them:
#   --target api   the Carebridge service on Python 3.11, with the embedding model from PyPI (nothing downloaded at run time)
#   --target rasa  Rasa 3.6 on Python 3.10, trained at build time; runs the Rasa server or the action server
# The api stage also exports all-MiniLM-L6-v2 to ONNX once; the rasa stage copies that file for its NLU featurizer.

FROM python:3.11-slim AS api
ENV PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    CAREBRIDGE_HOST=0.0.0.0 CAREBRIDGE_VAR_DIR=/var/lib/carebridge \
    CAREBRIDGE_EMBEDDING_MODEL_DIR=/opt/minilm
WORKDIR /srv/carebridge
# The CPU build of torch first, so the pinned install below does not pull a CUDA build.
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY requirements/constraints.txt requirements/constraints.txt
COPY pyproject.toml README.md ./
COPY app app
COPY knowledge knowledge
COPY routing routing
RUN pip install --no-cache-dir -c requirements/constraints.txt .
RUN python -c "from pathlib import Path; import shutil; from knowledge import onnx; \
onnx.prepared(Path('/opt/minilm')); shutil.copy(onnx.model_dir() / 'tokenizer.json', '/opt/minilm/tokenizer.json')"
EXPOSE 8000
# `seed` migrates the schema, adds the demo data if missing, and creates Rasa's tracker database.
CMD ["sh", "-c", "carebridge seed && exec carebridge serve"]

FROM python:3.10-slim AS rasa
ENV RASA_TELEMETRY_ENABLED=false PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2 \
    CAREBRIDGE_MINILM_ONNX=/opt/minilm/all-MiniLM-L6-v2-0.1.0.onnx CAREBRIDGE_MINILM_TOKENIZER=/opt/minilm/tokenizer.json
WORKDIR /bot
COPY bot/requirements.txt bot/constraints.txt ./
RUN pip install --no-cache-dir -c constraints.txt -r requirements.txt
COPY --from=api /opt/minilm/ /opt/minilm/
COPY bot/ ./
RUN rasa train --config config.yml --domain domain.yml --data data --out /models --fixed-model-name carebridge
EXPOSE 5005 5055
# serve.py: `rasa run` with its API behind CAREBRIDGE_RASA_TOKEN, passed by the environment.
CMD ["python", "serve.py", "run", "--enable-api", "--port", "5005", "--model", "/models/carebridge.tar.gz", \
     "--endpoints", "endpoints.yml", "--credentials", "credentials.yml"]
