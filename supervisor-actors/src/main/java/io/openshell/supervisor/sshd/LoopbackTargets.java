package io.openshell.supervisor.sshd;

import java.util.Locale;

/**
 * Which {@code direct-tcpip} targets the sandbox daemon connects to: loopback only (127.0.0.0/8,
 * localhost, ::1 in any spelling, IPv4-mapped 127.x), decided from the text alone — no name is
 * resolved, so DNS cannot turn a name into a way out of the sandbox.
 */
final class LoopbackTargets {
  private LoopbackTargets() {}

  static boolean allows(String host, int port) {
    return port >= 1 && port <= 65535 && isLoopback(host);
  }

  static boolean isLoopback(String host) {
    if (host == null) return false;
    String h = host.trim().toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) h = h.substring(1, h.length() - 1);
    if (h.equals("localhost")) return true;
    if (isIpv4Loopback(h)) return true;
    return isIpv6Loopback(h);
  }

  private static boolean isIpv4Loopback(String h) {
    String[] parts = h.split("\\.", -1);
    if (parts.length != 4) return false;
    int[] octets = new int[4];
    for (int i = 0; i < 4; i++) {
      if (parts[i].isEmpty() || parts[i].length() > 3 || !parts[i].chars().allMatch(Character::isDigit)) return false;
      octets[i] = Integer.parseInt(parts[i]);
      if (octets[i] > 255) return false;
    }
    return octets[0] == 127;
  }

  private static boolean isIpv6Loopback(String h) {
    if (!h.contains(":") || !h.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == ':' || c == '.')) return false;
    int[] groups = ipv6Groups(h);
    if (groups == null) return false;
    boolean leadingZero = true;
    for (int i = 0; i < 5; i++) leadingZero &= groups[i] == 0;
    if (!leadingZero) return false;
    // ::1
    if (groups[5] == 0 && groups[6] == 0 && groups[7] == 1) return true;
    // ::ffff:127.x.y.z (IPv4-mapped)
    return groups[5] == 0xffff && (groups[6] >> 8) == 127;
  }

  /** The eight 16-bit groups of an IPv6 literal (with "::" and a dotted IPv4 tail), or null. */
  private static int[] ipv6Groups(String h) {
    String text = h;
    int[] tail = null;
    int lastColon = text.lastIndexOf(':');
    if (text.indexOf('.') >= 0) {
      String v4 = text.substring(lastColon + 1);
      if (!v4.matches("\\d{1,3}(\\.\\d{1,3}){3}")) return null;
      String[] p = v4.split("\\.");
      int[] o = new int[4];
      for (int i = 0; i < 4; i++) {
        o[i] = Integer.parseInt(p[i]);
        if (o[i] > 255) return null;
      }
      tail = new int[] {(o[0] << 8) | o[1], (o[2] << 8) | o[3]};
      text = text.substring(0, lastColon + 1) + "0:0";
    }
    int doubleColon = text.indexOf("::");
    if (doubleColon != text.lastIndexOf("::")) return null;
    String[] head;
    String[] rest;
    if (doubleColon >= 0) {
      String left = text.substring(0, doubleColon);
      String right = text.substring(doubleColon + 2);
      head = left.isEmpty() ? new String[0] : left.split(":", -1);
      rest = right.isEmpty() ? new String[0] : right.split(":", -1);
      if (head.length + rest.length > 7) return null;
    } else {
      head = text.split(":", -1);
      rest = new String[0];
      if (head.length != 8) return null;
    }
    int[] groups = new int[8];
    for (int i = 0; i < head.length; i++) {
      Integer g = group(head[i]);
      if (g == null) return null;
      groups[i] = g;
    }
    for (int i = 0; i < rest.length; i++) {
      Integer g = group(rest[i]);
      if (g == null) return null;
      groups[8 - rest.length + i] = g;
    }
    if (tail != null) {
      groups[6] = tail[0];
      groups[7] = tail[1];
    }
    return groups;
  }

  private static Integer group(String text) {
    if (text.isEmpty() || text.length() > 4) return null;
    try {
      return Integer.parseInt(text, 16);
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
