// Package mototest runs a moto server (PyPI moto[server], pinned in scripts/moto-requirements.txt)
// as the CloudWatch and DynamoDB stand-in for tests. No product code imports it.
//
//	ep := mototest.Start(t)                      // a fresh server on a free 127.0.0.1 port, stopped at cleanup
//	cw := mototest.CloudWatch(ep)                // CloudWatch client on the AWS JSON 1.0 protocol
//	ddb := mototest.DynamoDB(ep)                 // DynamoDB client
//	mototest.Keys(t, ddb, table, "id")           // every item's string key (Scan), and Item(t, ddb, table, "id", v)
//	mototest.Reset(ep)                           // POST /moto-api/reset: drop all state
//
// With OFFSETLAG_TEST_MOTO_ENDPOINT set (for example from `eval "$(scripts/moto.sh env)"`), Start uses
// that server instead of starting one (and does not reset it). Otherwise it creates the venv with
// scripts/moto.sh venv (cached in .cache/moto-venv) and runs moto_server itself, in its own process
// group with Pdeathsig=SIGKILL.
//
// When moto cannot run (no python3/venv, PyPI unreachable) the test is skipped, except with CI=true,
// where it fails.
package mototest
