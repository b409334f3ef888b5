# posture: one image for the web face, the scheduler and the workers (see docker-compose.yml)
FROM python:3.11-slim-bookworm

# Japanese fonts and fast font subsetting for the PDF report
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libharfbuzz-subset0 fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
COPY scanners ./scanners
COPY policies ./policies
COPY remediation ./remediation
COPY reports ./reports
RUN pip install --no-cache-dir . \
 && useradd --create-home --uid 10001 posture

USER posture
ENV POSTURE_HOME=/home/posture/.posture \
    POSTURE_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
ENTRYPOINT ["posture"]
CMD ["--help"]
