package io.openshell.gateway.ssh;

/** Where clients open SSH tunnels, as CreateSshSession reports it: the bound tunnel listener. */
public record SshGatewayEndpoint(String host, int port, String scheme, String connectPath) {}
