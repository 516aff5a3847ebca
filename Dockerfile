# mnist-tf1 on the official TensorFlow image.
#   docker build -t mnist-tf1 .
#   docker build --build-arg VARIANT=-gpu -t mnist-tf1:gpu .
#   docker run --rm -v mnist-data:/data -v "$PWD/logs:/logs" mnist-tf1 [--max_steps=...]
#   docker run --rm --gpus all -v mnist-data:/data -v "$PWD/logs:/logs" mnist-tf1:gpu
# TF_VERSION is the newest of the tensorflow range in setup.cfg (a test checks it).
ARG TF_VERSION=2.21.0
ARG VARIANT=
FROM tensorflow/tensorflow:${TF_VERSION}${VARIANT}

WORKDIR /opt/mnist-tf1
COPY setup.cfg pyproject.toml README.md ./
COPY mnist_tf1 ./mnist_tf1
# The image already has TensorFlow; pip keeps it when it satisfies the range.
RUN python3 -m pip install --no-cache-dir . \
    && useradd --create-home --uid 1000 mnist \
    && mkdir -p /data /logs && chown mnist:mnist /data /logs

USER mnist
VOLUME ["/data", "/logs"]
ENTRYPOINT ["mnist-tf1-train", "--input_data_dir=/data", "--log_dir=/logs"]
