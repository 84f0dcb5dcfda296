# unigate gateway: `docker build -t unigate . && docker run -p 8080:8080 -e UNIGATE_SECRET_KEY=... -v unigate:/data unigate`
FROM python:3.11-slim

RUN useradd --create-home --uid 10001 unigate && mkdir /data && chown unigate /data
WORKDIR /app
COPY pyproject.toml setup.py README.md ./
COPY src ./src
COPY connectors ./connectors
COPY mappings ./mappings
RUN pip install --no-cache-dir . && rm -rf /root/.cache

USER unigate
ENV UNIGATE_HOST=0.0.0.0 \
    UNIGATE_PORT=8080 \
    UNIGATE_DATABASE=/data/vault.db \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=5s \
  CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=2).status != 200)"
CMD ["unigate", "serve"]
