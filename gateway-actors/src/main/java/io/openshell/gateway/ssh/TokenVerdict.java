package io.openshell.gateway.ssh;

import io.openshell.gateway.CborSerializable;

/** Whether a token may open a tunnel to a sandbox right now. */
public enum TokenVerdict implements CborSerializable {
  VALID, UNKNOWN, REVOKED, EXPIRED, OTHER_SANDBOX
}
