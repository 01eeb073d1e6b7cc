package io.openshell.supervisor;

import com.typesafe.config.Config;
import io.openshell.supervisor.session.SessionSettings;
import io.openshell.supervisor.sshd.SshDaemonSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * Typed {@code openshell.supervisor} settings. {@code endpoints} has one gateway URL, or several
 * nodes of a clustered gateway in the order they are tried. {@code instanceId} is a fresh UUID each time settings
 * are read, which Main does once per process start. {@code credential} is the sandbox's supervisor
 * credential (empty: none), sent as {@code x-sandbox-credential} on every call to the gateway.
 * {@code relaySpareStream}: the session keeps one RelayStream call open ahead of the next RelayOpen.
 * {@code relaySendAheadBytes}: frames a relay may have queued for the gateway before it waits.
 */
public record SupervisorSettings(
    List<GatewayEndpoint> endpoints,
    String sandboxId,
    String sandboxName,
    Path sshSocketPath,
    String instanceId,
    SessionSettings session,
    int relayFrameBytes,
    SshDaemonSettings ssh,
    int relayPrefetchFrames,
    String credential,
    Tls tls,
    int relaySocketWriteBatch,
    boolean relaySpareStream,
    int relaySendAheadBytes) {

  /** Never prints the credential. */
  @Override
  public String toString() {
    return "SupervisorSettings[endpoints=" + endpoints + ", sandboxId=" + sandboxId + ", sandboxName=" + sandboxName
        + ", sshSocketPath=" + sshSocketPath + ", instanceId=" + instanceId + ", credential="
        + (credential.isEmpty() ? "none" : "****") + ", tls=" + tls + "]";
  }

  /** PEM files for https endpoints: the CA that signed the gateway's certificate, an optional client certificate. */
  public record Tls(java.util.Optional<Path> ca, java.util.Optional<Path> cert, java.util.Optional<Path> key) {
    static Tls fromConfig(Config c) {
      return new Tls(path(c, "ca"), path(c, "cert"), path(c, "key"));
    }

    private static java.util.Optional<Path> path(Config c, String key) {
      String value = c.getString(key);
      return value.isBlank() ? java.util.Optional.empty() : java.util.Optional.of(Path.of(value));
    }
  }

  /** The first endpoint: the one a supervisor dials first. */
  public GatewayEndpoint endpoint() {
    return endpoints.get(0);
  }

  public static SupervisorSettings fromConfig(Config root) {
    Config c = root.getConfig("openshell.supervisor");
    String sandboxId = c.getString("sandbox-id");
    if (sandboxId.isBlank()) {
      throw new IllegalArgumentException("openshell.supervisor.sandbox-id is required");
    }
    return new SupervisorSettings(
        GatewayEndpoint.parseList(c.getString("endpoint")),
        sandboxId,
        c.getString("sandbox-name"),
        Path.of(c.getString("ssh-socket-path")),
        UUID.randomUUID().toString(),
        SessionSettings.fromConfig(c.getConfig("session")),
        (int) c.getMemorySize("relay.frame-size").toBytes(),
        SshDaemonSettings.fromConfig(Path.of(c.getString("ssh-socket-path")), c.getConfig("ssh")),
        c.getInt("relay.prefetch-frames"),
        c.getString("credential").trim(),
        Tls.fromConfig(c.getConfig("tls")),
        (int) c.getMemorySize("relay.socket-write-batch").toBytes(),
        c.getBoolean("relay.spare-stream"),
        (int) c.getMemorySize("relay.send-ahead").toBytes());
  }
}
