import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import './styles/theme.css';
import { isExportPage, runExportPage } from './video/exportPage.ts';

// `?export=...` renders a video for `headway export --video` instead of the UI (video/exportPage.ts).
if (isExportPage(location.search)) void runExportPage(location.search);
else createApp(App).use(createPinia()).mount('#app');
