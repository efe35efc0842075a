# Images: one OCI image per workload, built without a Docker daemon by
# images/cmd/imagebuild (package images). Output: .sluice/images/oci (OCI
# layout) and .sluice/images/digests.json.
#   make images                                     offline base, no registry
#   make images BASE_IMAGE=<name>@sha256:<digest>   release base, pulled by digest
#   PUSH=1 REGISTRY=<acr>.azurecr.io make images    push with Entra ID (no Docker config)
#   make images SPARK_BASE_IMAGE=apache/spark:<tag>@sha256:<digest>
#                                                   also the stream image (the Spark job) on
#                                                   Apache Spark's image; its jars come from
#                                                   devservices spark-image (mvn) first
# VERSION, REVISION, SOURCE_DATE_EPOCH, WORKLOADS=ingest,api,stream narrow or stamp a build.
# Without SPARK_BASE_IMAGE the Go images are built and imagebuild says the
# stream image was skipped; WORKLOADS=stream without it is an error.

IMAGES_OUT := $(ROOT)/.sluice/images
WORKLOADS ?=
SPARK_BASE_IMAGE ?=
SPARK_IMAGE_JARS := $(ROOT)/.sluice/build/spark/image-jars
images_comma := ,
# Non-empty when this build makes the stream image, so only then mvn runs.
IMAGES_STREAM := $(and $(SPARK_BASE_IMAGE),$(if $(strip $(WORKLOADS)),$(filter stream,$(subst $(images_comma), ,$(WORKLOADS))),yes))

.PHONY: images test-images

images: ## build the workload images into .sluice/images (PUSH=1 REGISTRY=<acr>.azurecr.io pushes; BASE_IMAGE=name@sha256:… for a release base; SPARK_BASE_IMAGE=apache/spark:<tag>@sha256:… adds the stream image)
	@$(if $(IMAGES_STREAM),$(GO) run ./workloads/dev/cmd/devservices spark-image -out "$(SPARK_IMAGE_JARS)" && ,)\
	$(GO) run ./images/cmd/imagebuild -C "$(ROOT)" -out "$(IMAGES_OUT)" \
		$(if $(WORKLOADS),-workloads "$(WORKLOADS)",) \
		-push=$(if $(filter 1 true yes,$(PUSH)),true,false) \
		-registry "$(REGISTRY)" -base "$(BASE_IMAGE)" \
		-spark-base "$(SPARK_BASE_IMAGE)" -spark-jars "$(SPARK_IMAGE_JARS)"

# `make test` runs these too (it tests ./...); this target runs only them.
test-images: ## image tests only: build every image twice, inspect it, run its binary; ACR token exchange
	$(GO) test -count=1 ./images/...
