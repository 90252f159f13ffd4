import { sleepingData } from './sleep.ts';

export const data = sleepingData(200);
