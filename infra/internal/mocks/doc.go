// Package mocks runs the Sluice program without Azure: Monitor implements
// pulumi.MockResourceMonitor, answering every resource registration with
// plausible outputs for its type token (ARM ids, names, host names, URIs,
// identity ids) and the invokes the program makes (getClientConfig,
// listDatabaseAccountKeys, listManagedClusterUserCredentials), and records
// every registration so tests and the offline plan can walk the resource
// tree.
package mocks
