// Package handshake holds the go-plugin handshake both Go programs in this
// module use. The values must equal packages/protocol/src/wire/handshake.ts
// (MAGIC_COOKIE, APP_PROTOCOL_VERSION); the interop tests fail if a Go peer
// and a TypeScript peer disagree, which is the point of keeping them here
// rather than inlined in each main package.
package handshake

import plugin "github.com/hashicorp/go-plugin"

// Config is the go-plugin HandshakeConfig of a Flotilla provider plugin.
var Config = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "FLOTILLA_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "6f1d4c0b-flotilla-provider-plugin",
}

// PluginName is the key under which both Go programs register the Flotilla
// contract in go-plugin's PluginSet. go-plugin needs a name to dispense;
// with gRPC it never travels on the wire, so any fixed string works.
const PluginName = "provider"
