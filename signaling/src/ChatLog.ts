import { CHAT_HISTORY_LENGTH, type ChatMessage } from './protocol.js';

/** A meeting's recent chat, oldest first, bounded so a long meeting cannot grow it without end. */
export class ChatLog {
  private readonly messages: ChatMessage[] = [];

  constructor(private readonly capacity = CHAT_HISTORY_LENGTH) {}

  append(message: ChatMessage): void {
    this.messages.push(message);
    if (this.messages.length > this.capacity) this.messages.splice(0, this.messages.length - this.capacity);
  }

  recent(): ChatMessage[] {
    return [...this.messages];
  }
}
