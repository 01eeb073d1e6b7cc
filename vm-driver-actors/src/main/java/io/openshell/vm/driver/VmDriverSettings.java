package io.openshell.vm.driver;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * {@code openshell.gateway.vm-driver} plus what the gateway decides at start: the endpoint guests
 * dial, the supervisor jar and the JDK the guest runs (both from the host's read-only trees).
 */
public record VmDriverSettings(Path stateDir, Path cacheDir, int vcpus, int memMib, Backend backend, Accel accel,
    Duration accelProbeTimeout, String qemuBinary, Duration provisionTimeout, Duration stopGrace, Duration consolePoll,
    int consoleTailLines, String guestAddress, String hostAddress, String hostAlias, List<String> guestJvmOptions,
    List<String> guestCommand, TlsMaterial tls, String gatewayEndpoint, Path supervisorJar, Path javaHome) {

  public enum Backend { AUTO, QEMU, LIBKRUN }

  public enum Accel { AUTO, KVM, TCG }

  /** Paths on the host; all empty means plaintext. */
  public record TlsMaterial(String ca, String cert, String key) {
    public static final TlsMaterial NONE = new TlsMaterial("", "", "");

    public boolean present() {
      return !ca.isEmpty() || !cert.isEmpty() || !key.isEmpty();
    }
  }

  public VmDriverSettings {
    if (vcpus < 1) throw new IllegalArgumentException("--vm-vcpus must be at least 1 (got " + vcpus + ")");
    if (memMib < 256) throw new IllegalArgumentException("--vm-mem-mib must be at least 256 (got " + memMib + "): the guest JVM needs it");
  }

  public static VmDriverSettings fromConfig(Config gateway, Path gatewayStateDir, String gatewayEndpoint,
      Path supervisorJar, Path javaHome) {
    Config c = gateway.getConfig("vm-driver");
    String stateDir = c.getString("state-dir");
    String cacheDir = c.getString("cache-dir");
    return new VmDriverSettings(
        stateDir.isEmpty() ? gatewayStateDir.resolve("vm-driver") : Path.of(stateDir).toAbsolutePath(),
        cacheDir.isEmpty() ? defaultCacheDir() : Path.of(cacheDir).toAbsolutePath(),
        c.getInt("vcpus"), c.getInt("mem-mib"),
        Backend.valueOf(c.getString("backend").toUpperCase(Locale.ROOT)),
        Accel.valueOf(c.getString("accel").toUpperCase(Locale.ROOT)),
        c.getDuration("accel-probe-timeout"), c.getString("qemu-binary"), c.getDuration("provision-timeout"),
        c.getDuration("stop-grace"), c.getDuration("console-poll"), c.getInt("console-tail-lines"),
        c.getString("guest-address"), c.getString("host-address"), c.getString("host-alias"),
        List.copyOf(c.getStringList("guest-jvm-options")), List.copyOf(c.getStringList("guest-command")),
        new TlsMaterial(c.getString("tls.ca"), c.getString("tls.cert"), c.getString("tls.key")),
        gatewayEndpoint, supervisorJar, javaHome);
  }

  /** {@code ${XDG_CACHE_HOME:-~/.cache}/openshell/vm}: one download of the kernel serves every gateway. */
  public static Path defaultCacheDir() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isEmpty() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("openshell").resolve("vm");
  }

  public VmDriverSettings withProvisionTimeout(Duration timeout) {
    return new VmDriverSettings(stateDir, cacheDir, vcpus, memMib, backend, accel, accelProbeTimeout, qemuBinary, timeout,
        stopGrace, consolePoll, consoleTailLines, guestAddress, hostAddress, hostAlias, guestJvmOptions, guestCommand, tls,
        gatewayEndpoint, supervisorJar, javaHome);
  }
}
