package io.openshell.supervisor.relay;

import static org.junit.jupiter.api.Assertions.*;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class UnixSocketStreamsTest {

  @Test
  void aListeningDaemonIsConnectedAtOnceWithABlockingChannel() throws Exception {
    Path dir = Files.createTempDirectory("unix-streams");
    Path path = dir.resolve("ssh.sock");
    try (ServerSocketChannel daemon = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      daemon.bind(UnixDomainSocketAddress.of(path));
      try (SocketChannel channel = UnixSocketStreams.connectNow(path)) {
        assertNotNull(channel, "connected without waiting");
        assertTrue(channel.isConnected());
        // The byte streams read and write in blocking mode.
        assertTrue(channel.isBlocking());
      }
    }
  }

  @Test
  void noDaemonLeavesTheConnectToTheBlockingPathWhichSaysWhy() throws Exception {
    Path missing = Files.createTempDirectory("unix-streams").resolve("ssh.sock");
    assertNull(UnixSocketStreams.connectNow(missing));
    assertThrows(java.io.IOException.class, () -> UnixSocketStreams.connect(missing));
  }

  @Test
  void aFullAcceptBacklogLeavesTheConnectToTheBlockingPath() throws Exception {
    Path path = Files.createTempDirectory("unix-streams").resolve("ssh.sock");
    List<SocketChannel> waiting = new ArrayList<>();
    try (ServerSocketChannel daemon = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      // A daemon that never accepts: its backlog of one fills after a connection or two.
      daemon.bind(UnixDomainSocketAddress.of(path), 1);
      SocketChannel refused = null;
      for (int i = 0; i < 16 && refused == null; i++) {
        SocketChannel channel = UnixSocketStreams.connectNow(path);
        if (channel == null) refused = SocketChannel.open(StandardProtocolFamily.UNIX);
        else waiting.add(channel);
      }
      assertNotNull(refused, "a full backlog is not connected without blocking");
      refused.close();
      assertFalse(waiting.isEmpty(), "connections the backlog had room for were made at once");
    } finally {
      for (SocketChannel channel : waiting) channel.close();
    }
  }
}
