package io.openshell.gateway.exec;

import com.typesafe.config.Config;
import java.time.Duration;

/** {@code openshell.gateway.exec}: ExecSandbox limits and the gateway-side SSH client's patience. */
public record ExecSettings(ExecRequestValidation.ExecLimits limits, int maxStdinBytes, Duration connectTimeout,
    Duration keepaliveInterval, int keepaliveMaxMissed, Duration exitStatusWait, int readChunkBytes) {

  public static ExecSettings fromConfig(Config gateway) {
    Config c = gateway.getConfig("exec");
    return new ExecSettings(
        new ExecRequestValidation.ExecLimits((int) c.getMemorySize("max-command-bytes").toBytes(), c.getInt("max-args"),
            (int) c.getMemorySize("max-arg-bytes").toBytes(), (int) c.getMemorySize("max-workdir-bytes").toBytes()),
        (int) c.getMemorySize("max-stdin-bytes").toBytes(), c.getDuration("connect-timeout"),
        c.getDuration("keepalive-interval"), c.getInt("keepalive-max-missed"), c.getDuration("exit-status-wait"),
        (int) c.getMemorySize("read-chunk").toBytes());
  }
}
