package io.openshell.client.sshproxy;

import io.openshell.client.connection.Environment;
import io.openshell.client.connection.GatewaySelection;
import io.openshell.client.gateway.LocalGateway;
import io.openshell.client.sshsession.SshSession;
import io.openshell.client.sshsession.SshSessions;

/**
 * Name mode: the cached session for this gateway and sandbox, else one minted now. A cached token the
 * gateway rejects (revoked, expired early, sandbox re-created under the same name) or whose
 * per-token connection cap is taken by other ssh sessions of this machine is replaced once.
 * Kept apart from {@link SshProxyMain} so token mode never loads gRPC.
 */
final class NamedSessionSource implements SessionSource {
  private final SshSessions sessions;
  private final String gatewayName;
  private final String endpoint;
  private final String sandboxName;
  private SshSession session;
  private boolean cached;

  NamedSessionSource(SshSessions sessions, String gatewayName, String endpoint, String sandboxName) {
    this.sessions = sessions;
    this.gatewayName = gatewayName;
    this.endpoint = endpoint;
    this.sandboxName = sandboxName;
  }

  /** Resolves the gateway name now: a stopped local gateway is reported before any cached token is tried. */
  static NamedSessionSource inStateDir(Environment environment, String gatewayName, String sandboxName) {
    String endpoint = GatewaySelection.endpointNamed(gatewayName, new LocalGateway(environment));
    return new NamedSessionSource(SshSessions.inStateDir(environment), gatewayName, endpoint, sandboxName);
  }

  @Override
  public SshSession current() {
    if (session == null) {
      SshSessions.Obtained obtained = sessions.obtain(gatewayName, endpoint, sandboxName);
      session = obtained.session();
      cached = obtained.cached();
    }
    return session;
  }

  @Override
  public SshSession replacing(SshSession rejected) {
    if (!cached || rejected != session) return null;
    cached = false;
    session = sessions.mint(gatewayName, endpoint, sandboxName);
    return session;
  }
}
