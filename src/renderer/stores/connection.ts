/** The connection to the backend (IPC in the desktop app, WebSocket in browser mode). */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { HelloInfo } from '../../shared/api.ts';

export const useConnectionStore = defineStore('connection', () => {
  const state = ref<'connecting' | 'connected' | 'disconnected'>('connecting');
  const hello = ref<HelloInfo | null>(null);
  const problem = ref<string | null>(null);

  function connected(info: HelloInfo): void {
    state.value = 'connected';
    hello.value = info;
    problem.value = null;
  }

  function lost(reason: string): void {
    state.value = 'disconnected';
    problem.value = reason;
  }

  return { state, hello, problem, connected, lost };
});
