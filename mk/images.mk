# Images: one OCI image per workload, built without a Docker daemon by
# images/cmd/imagebuild (package images). Output: .sluice/images/oci (OCI
# layout) and .sluice/images/digests.json.
#   make images                                     offline base, no registry
#   make images BASE_IMAGE=<name>@sha256:<digest>   release base, pulled by digest
#   PUSH=1 REGISTRY=<acr>.azurecr.io make images    push with Entra ID (no Docker config)
# VERSION, REVISION, SOURCE_DATE_EPOCH, WORKLOADS=ingest,api narrow or stamp a build.

IMAGES_OUT := $(ROOT)/.sluice/images
WORKLOADS ?=

.PHONY: images test-images

images: ## build the workload images into .sluice/images (PUSH=1 REGISTRY=<acr>.azurecr.io pushes; BASE_IMAGE=name@sha256:… for a release base)
	@$(GO) run ./images/cmd/imagebuild -C "$(ROOT)" -out "$(IMAGES_OUT)" \
		$(if $(WORKLOADS),-workloads "$(WORKLOADS)",) \
		-push=$(if $(filter 1 true yes,$(PUSH)),true,false) \
		-registry "$(REGISTRY)" -base "$(BASE_IMAGE)"

# `make test` runs these too (it tests ./...); this target runs only them.
test-images: ## image tests only: build every image twice, inspect it, run its binary; ACR token exchange
	$(GO) test -count=1 ./images/...
