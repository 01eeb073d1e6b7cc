package io.openshell.client.ssh;

import static org.junit.jupiter.api.Assertions.*;

import io.openshell.client.connection.CliException;
import org.junit.jupiter.api.Test;

class TransfersTest {

  @Test
  void aSandboxPathSplitsIntoTheDirectoryForTarAndTheNameToTake() {
    assertEquals(new Transfers.RemotePath("/sandbox", "out.txt"), Transfers.RemotePath.of("/sandbox/out.txt"));
    assertEquals(new Transfers.RemotePath("/sandbox", "results"), Transfers.RemotePath.of("/sandbox/results/"));
    assertEquals(new Transfers.RemotePath("/", "etc"), Transfers.RemotePath.of("/etc"));
    assertEquals(new Transfers.RemotePath(".", "notes.md"), Transfers.RemotePath.of("notes.md"));
    assertEquals(new Transfers.RemotePath("work", "a b"), Transfers.RemotePath.of("work/a b"));
    assertThrows(CliException.class, () -> Transfers.RemotePath.of("/"));
    assertThrows(CliException.class, () -> Transfers.RemotePath.of(""));
  }
}
