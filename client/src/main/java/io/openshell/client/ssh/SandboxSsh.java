package io.openshell.client.ssh;

import io.openshell.client.connection.Environment;
import io.openshell.client.connection.GatewaySelection;
import io.openshell.client.sshsession.SshSessions;

/**
 * What every ssh-based command does first: obtain a session now, so a missing or unready sandbox (or a
 * response outside the charset contract) is a clear error before ssh starts, and the proxy ssh launches
 * finds it in the cache; then the ssh command lines for that sandbox.
 */
public final class SandboxSsh {
  private SandboxSsh() {}

  public static SshCommandLine prepare(GatewaySelection.Choice gateway, Environment environment, String sandboxName) {
    SshSessions.inStateDir(environment).obtain(gateway.name(), gateway.endpoint(), sandboxName);
    return SshCommandLine.forSandbox(ProxyLauncher.command(), gateway.name(), sandboxName);
  }
}
