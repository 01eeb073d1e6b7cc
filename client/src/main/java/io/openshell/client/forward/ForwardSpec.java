package io.openshell.client.forward;

import io.openshell.client.connection.CliException;

/** {@code [bind-address:]port}: a local listener that leads to the same port on the sandbox's loopback. */
public record ForwardSpec(String bindAddress, int port) {
  public static final String DEFAULT_BIND_ADDRESS = "127.0.0.1";

  /** {@code 8080}, {@code 0.0.0.0:8080}, {@code [::1]:8080} or {@code ::1:8080} (the last colon separates the port). */
  public static ForwardSpec parse(String spec) {
    int colon = spec.lastIndexOf(':');
    String address = colon < 0 ? DEFAULT_BIND_ADDRESS : spec.substring(0, colon);
    String portText = spec.substring(colon + 1);
    if (address.startsWith("[") && address.endsWith("]")) address = address.substring(1, address.length() - 1);
    int port;
    try {
      port = Integer.parseInt(portText);
    } catch (NumberFormatException e) {
      throw new CliException("invalid forward '" + spec + "': expected [bind-address:]port");
    }
    if (port < 1 || port > 65535) throw new CliException("invalid forward '" + spec + "': port must be 1..65535");
    if (address.isEmpty()) throw new CliException("invalid forward '" + spec + "': empty bind address");
    return new ForwardSpec(address, port);
  }

  /** The bind address as ssh's {@code -L} wants it: IPv6 literals in brackets. */
  public String sshBindAddress() {
    return bindAddress.contains(":") ? "[" + bindAddress + "]" : bindAddress;
  }

  @Override
  public String toString() {
    return sshBindAddress() + ":" + port;
  }
}
