package io.openshell.supervisor.sshd;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;

/** Typed {@code openshell.supervisor.ssh} settings plus the socket path. */
public record SshDaemonSettings(
    boolean enabled,
    Path socketPath,
    Duration listenTimeout,
    Duration hangupGrace,
    Duration outputDrainAfterExit,
    String defaultTerm,
    String shell,
    String setsid) {

  public static SshDaemonSettings fromConfig(Path socketPath, Config ssh) {
    return new SshDaemonSettings(
        ssh.getBoolean("daemon"),
        socketPath,
        ssh.getDuration("listen-timeout"),
        ssh.getDuration("hangup-grace"),
        ssh.getDuration("output-drain-after-exit"),
        ssh.getString("default-term"),
        ssh.getString("shell"),
        ssh.getString("setsid"));
  }
}
