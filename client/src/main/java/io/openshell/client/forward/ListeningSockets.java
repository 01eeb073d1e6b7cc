package io.openshell.client.forward;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Whether a process listens on a TCP port yet: how {@code forward start -d} learns that ssh is connected
 * (ssh binds {@code -L} listeners only after authenticating). Reads /proc, so nothing connects to the
 * forward and the sandbox's service sees no stray connection; without /proc it falls back to connecting.
 */
final class ListeningSockets {
  private static final String LISTEN = "0A";
  private static final List<Path> TABLES = List.of(Path.of("/proc/net/tcp"), Path.of("/proc/net/tcp6"));

  private ListeningSockets() {}

  static boolean listening(long pid, ForwardSpec spec) {
    if (!Files.isReadable(TABLES.get(0))) return accepts(spec);
    Set<String> inodes = listenerInodes(spec.port());
    if (inodes.isEmpty()) return false;
    try (DirectoryStream<Path> descriptors = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
      for (Path descriptor : descriptors) {
        String target = readLink(descriptor);
        if (target.startsWith("socket:[") && inodes.contains(target.substring(8, target.length() - 1))) return true;
      }
    } catch (IOException e) {
      return false;
    }
    return false;
  }

  /** Inodes of sockets in LISTEN on {@code port}, from /proc/net/tcp{,6} ({@code sl local rem st … uid timeout inode}). */
  static Set<String> listenerInodes(int port) {
    String hexPort = String.format(Locale.ROOT, ":%04X", port);
    Set<String> inodes = new HashSet<>();
    for (Path table : TABLES) {
      try {
        for (String line : Files.readAllLines(table)) {
          String[] fields = line.trim().split("\\s+");
          if (fields.length > 9 && fields[1].endsWith(hexPort) && fields[3].equals(LISTEN)) inodes.add(fields[9]);
        }
      } catch (IOException e) {
        // no IPv6 table on this machine
      }
    }
    return inodes;
  }

  private static String readLink(Path descriptor) {
    try {
      return Files.readSymbolicLink(descriptor).toString();
    } catch (IOException | UnsupportedOperationException e) {
      return "";
    }
  }

  private static boolean accepts(ForwardSpec spec) {
    String host = spec.bindAddress().equals("0.0.0.0") || spec.bindAddress().equals("::") ? "127.0.0.1" : spec.bindAddress();
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, spec.port()), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
