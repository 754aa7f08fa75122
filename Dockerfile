# One image for the worker, the API and migrations (docker-compose.yml picks the command).
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY rules rules
COPY jiuzhu jiuzhu
COPY workflows workflows
COPY activities activities
COPY api api
COPY migrations migrations
COPY policies policies
COPY alembic.ini worker.py ./
COPY scripts/serve_api.py scripts/serve_api.py
RUN pip install --no-cache-dir .
CMD ["python", "worker.py"]
