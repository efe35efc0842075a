// Package scripts holds the tests of the delivery shell scripts in this directory
// (delivery.sh, the wrapper behind `make preview|up|destroy|refresh`). The tests
// run the scripts with a stand-in pulumi executable that records its arguments, so
// they need neither the Pulumi CLI nor Azure.
package scripts
