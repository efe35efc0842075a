// Package scripts holds the tests of the delivery shell scripts in this directory
// (delivery.sh, the wrapper behind `make preview|up|destroy|refresh`). The tests
// run the scripts with a stand-in pulumi executable that records its arguments, so
// they need neither the Pulumi CLI nor Azure. rotate-cosmos-key.sh (the Cosmos DB
// key rotation) is tested the same way, against stand-in az and kubectl commands
// that keep the account's keys and the Key Vault secret in files.
package scripts
