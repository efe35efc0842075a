# The Spark jobs (workloads/spark, Java 17 + Maven): `make build` builds
# their jar into .sluice/build/spark and fetches the Spark jar set they run
# on locally (once, about 250 MB from Maven Central).

.PHONY: spark

build: spark

spark: ## fetch the Spark jar set (once) and build the Spark jobs' jar into .sluice/build/spark
	@$(GO) run ./workloads/dev/cmd/devservices spark
