package io.openshell.supervisor.sshd;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Puts the SSH daemon's socket where only its owner can reach it: the parent directory is 0700, the
 * socket is bound under a temporary name inside it, made 0600, then renamed into place, so the final
 * path never exists with wider permissions (authorization is the gateway token plus these modes).
 */
final class SocketPermissions {
  private static final int TYPE_MASK = 0170000;
  private static final int TYPE_SOCKET = 0140000;
  private static final int STICKY = 01000;

  private SocketPermissions() {}

  static void bindPrivately(ServerSocketChannel server, Path socketPath, int backlog) throws IOException {
    Path socket = socketPath.toAbsolutePath();
    Path directory = socket.getParent();
    if (directory == null) {
      throw new IOException("SSH socket path " + socket + " has no parent directory");
    }
    Files.createDirectories(directory);
    int mode = mode(directory);
    if ((mode & STICKY) != 0) {
      // A shared directory like /tmp: making it 0700 would break every other user of it.
      throw new IOException("SSH socket directory " + directory
          + " is shared (sticky bit set); choose a dedicated directory for --ssh-socket-path");
    }
    Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
    removeStale(socket);
    Path staging = directory.resolve("." + socket.getFileName() + "." + ProcessHandle.current().pid() + ".binding");
    Files.deleteIfExists(staging);
    server.bind(UnixDomainSocketAddress.of(staging), backlog);
    try {
      Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rw-------"));
      Files.move(staging, socket, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      Files.deleteIfExists(staging);
      throw e;
    }
  }

  /** A socket left by an earlier run goes; anything else at that path is someone else's file. */
  private static void removeStale(Path socket) throws IOException {
    if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if ((mode(socket) & TYPE_MASK) != TYPE_SOCKET) {
      throw new IOException("SSH socket path " + socket + " exists and is not a socket; remove it or choose another path");
    }
    Files.delete(socket);
  }

  /** Removes the path if it is (still) a socket. */
  static void removeSocket(Path socketPath) {
    try {
      if (!Files.exists(socketPath, LinkOption.NOFOLLOW_LINKS) || (mode(socketPath) & TYPE_MASK) != TYPE_SOCKET) return;
      Files.deleteIfExists(socketPath);
    } catch (IOException e) {
      // Best effort at shutdown: the next start removes a stale socket anyway.
    }
  }

  private static int mode(Path path) throws IOException {
    return (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
  }
}
