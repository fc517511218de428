// The gateway bodies the overview reads (docs/api.md), only the fields it shows.

export interface ClusterHealth {
  status: 'ok' | 'degraded';
  services: { service: string; instance: string; ready: boolean; lastSeen: string }[];
  jobs: { completed: number; failed: number };
}

export interface StorageLocation {
  name: string;
  location: string;
  capabilities: { immutability: boolean; rangedReads: boolean; serverSideCopy: boolean };
}

export interface SourceRecord {
  id: string;
  kind: string;
  location: string;
  createdAt: string;
  tenant?: string;
}

export interface BackupRecord {
  id: string;
  sourceId: string;
  createdAt: string;
  completedAt: string;
  bytesIn: number;
  bytesStored: number;
}

export interface JobRecord {
  id: string;
  kind: 'backup' | 'restore' | 'verify';
  state: 'requested' | 'queued' | 'running' | 'uploading' | 'verifying' | 'completed' | 'failed';
  createdAt: string;
  updatedAt: string;
}

export interface Alert {
  id: string;
  rule: string;
  level: 'INFO' | 'WARNING' | 'CRITICAL';
  source?: string;
  key?: string;
  summary: string;
  details: Record<string, string | number | boolean>;
  state: 'firing' | 'resolved';
  raisedAt: string;
  lastSeenAt: string;
}
