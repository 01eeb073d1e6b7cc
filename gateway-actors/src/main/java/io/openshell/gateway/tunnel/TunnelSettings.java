package io.openshell.gateway.tunnel;

import com.typesafe.config.Config;
import io.openshell.gateway.ssh.SshSessionContract;
import java.time.Duration;

/** {@code openshell.gateway.ssh-tunnel}: where the CONNECT tunnel listens and what one connection may cost. */
public record TunnelSettings(String host, int port, String connectPath, int maxRequestHeadBytes,
    Duration requestHeadTimeout, int maxConnectionsPerToken, int maxConnectionsPerSandbox,
    Duration websocketStartTimeout) {

  public TunnelSettings {
    if (!SshSessionContract.isValidConnectPath(connectPath)) {
      throw new IllegalArgumentException("ssh connect path '" + connectPath
          + "' must start with / and hold only RFC 3986 path characters (no ? # whitespace ` or \\)");
    }
    if (port < 0 || port > 65535) throw new IllegalArgumentException("ssh gateway port " + port + " is not 0-65535");
  }

  public static TunnelSettings fromConfig(Config gateway) {
    Config c = gateway.getConfig("ssh-tunnel");
    return new TunnelSettings(c.getString("host"), c.getInt("port"), c.getString("connect-path"),
        (int) c.getMemorySize("max-request-head").toBytes(), c.getDuration("request-head-timeout"),
        c.getInt("max-connections-per-token"), c.getInt("max-connections-per-sandbox"),
        c.getDuration("websocket-start-timeout"));
  }

  /** The host clients are told to dial: a wildcard listen address is reached through loopback. */
  public String advertisedHost() {
    return host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
  }
}
