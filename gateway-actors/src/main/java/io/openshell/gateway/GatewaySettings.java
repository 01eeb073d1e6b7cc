package io.openshell.gateway;

import com.typesafe.config.Config;
import io.openshell.gateway.cluster.ClusterSettings;
import io.openshell.gateway.relay.RelaySettings;
import io.openshell.gateway.sandbox.SandboxSettings;
import io.openshell.gateway.session.SessionSettings;
import io.openshell.gateway.ssh.SshSessionSettings;
import io.openshell.gateway.tls.TlsSettings;
import io.openshell.gateway.tunnel.TunnelSettings;
import java.nio.file.Path;
import java.util.List;

/** {@code openshell.gateway}, read once. */
public record GatewaySettings(String host, int port, int healthPort, String dbUrl, Path stateDir,
    List<String> drivers, String grpcEndpoint, boolean disableTls, SessionSettings sessions,
    SandboxSettings sandboxes, RelaySettings relays, TunnelSettings tunnel, SshSessionSettings sshSessions,
    ClusterSettings cluster, TlsSettings tls) {

  public static GatewaySettings fromConfig(Config root) {
    Config c = root.getConfig("openshell.gateway");
    String stateDir = c.getString("state-dir");
    return new GatewaySettings(c.getString("host"), c.getInt("port"), c.getInt("health-port"),
        c.getString("db-url"), stateDir.isEmpty() ? defaultStateDir() : Path.of(stateDir).toAbsolutePath(),
        List.of(c.getString("drivers").split("\\s*,\\s*")), c.getString("grpc-endpoint"),
        c.getBoolean("disable-tls"), SessionSettings.fromConfig(c), SandboxSettings.fromConfig(c),
        RelaySettings.fromConfig(c), TunnelSettings.fromConfig(c), SshSessionSettings.fromConfig(c),
        ClusterSettings.fromConfig(c), TlsSettings.fromConfig(c));
  }

  /** {@code ${XDG_STATE_HOME:-~/.local/state}/openshell/gateway}. */
  public static Path defaultStateDir() {
    String xdg = System.getenv("XDG_STATE_HOME");
    Path base = xdg != null && !xdg.isEmpty() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".local", "state");
    return base.resolve("openshell").resolve("gateway");
  }
}
