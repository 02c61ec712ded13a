# Single-node image: the same scripts/setup.mjs that `npm start` runs builds everything offline.
FROM node:20-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
ENV MEDIASOUP_WORKER_CACHE=/opt/mediasoup-worker
RUN node scripts/setup.mjs
ENV PORT=3000 DATA_DIR=/data
VOLUME /data
EXPOSE 3000 40000-40099/udp 40000-40099/tcp
CMD ["node", "signaling/dist/main.js"]
